"""`mnist` / `fashion-mnist`: IDX parsing, the 50,000/10,000/10,000 split, and every bad file."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from saddlepoint.config import DataConfig
from saddlepoint.data import idx, load_dataset
from saddlepoint.errors import SaddlepointError

REAL_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


def config(root: Path, name: str = "mnist", **kwargs) -> DataConfig:
    return DataConfig(name=name, root=str(root), **kwargs)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_values_labels_and_split(tmp_path, make_idx, gz):
    train_images, train_labels, test_images, test_labels = make_idx(tmp_path, gz=gz)
    train = load_dataset(config(tmp_path), "train")
    valid = load_dataset(config(tmp_path), "valid")
    test = load_dataset(config(tmp_path), "test")
    assert (len(train), len(valid), len(test)) == (5, 10_000, 7)  # 10,005 - the last 10,000
    assert train.x.shape == (5, 1, 2, 3) and train.x.dtype == torch.float32
    assert train.y.dtype == torch.int64
    assert train.x[0, 0, 0, 0].item() == 1.0  # 255 -> exactly 1
    assert train.x[1, 0, 0, 0].item() == 0.0
    assert train.x[3, 0, 1, 2].item() == pytest.approx(3 / 255, abs=1e-7)
    # valid is the tail of the training file, in order; labels round-trip
    assert torch.equal(valid.y, torch.from_numpy(train_labels[5:].astype(np.int64)))
    assert torch.equal(train.y, torch.tensor([0, 1, 2, 3, 4]))
    expected_valid = torch.from_numpy(train_images[5:].astype(np.float32) / 255).unsqueeze(1)
    assert torch.equal(valid.x, expected_valid)
    assert torch.equal(test.y, torch.from_numpy(test_labels.astype(np.int64)))
    assert torch.equal(test.x[:, 0], torch.from_numpy(test_images.astype(np.float32) / 255))
    assert train.classes == tuple("0123456789")


def test_fashion_mnist_class_names(tmp_path, make_idx):
    make_idx(tmp_path)
    test = load_dataset(config(tmp_path, "fashion-mnist"), "test")
    assert test.name == "fashion-mnist"
    assert test.classes[0] == "T-shirt/top" and test.classes[9] == "Ankle boot"
    assert len(test.classes) == 10
    assert test.classes[int(test.y[0])] == "Dress"  # first test label is (0 + 3) % 10


def test_limit_applies_to_train(tmp_path, make_idx):
    make_idx(tmp_path, train=10_020)
    assert len(load_dataset(config(tmp_path, limit=3), "train")) == 3
    assert len(load_dataset(config(tmp_path, limit=3), "valid")) == 10_000


def test_decoded_arrays_are_cached_until_the_file_changes(tmp_path, make_idx, idx_writer):
    make_idx(tmp_path, gz=False)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    first = idx.read_idx(path, idx.LABELS_MAGIC)
    assert idx.read_idx(path, idx.LABELS_MAGIC) is first  # not decoded twice
    idx_writer(path, np.full(7, 9))
    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    assert idx.read_idx(path, idx.LABELS_MAGIC).tolist() == [9] * 7


def test_default_roots(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(idx, "DEBIAN_FASHION_MNIST", str(tmp_path / "absent"))
    assert idx.default_root("mnist") == str(tmp_path / ".cache" / "saddlepoint" / "mnist")
    assert idx.default_root("fashion-mnist") == str(
        tmp_path / ".cache" / "saddlepoint" / "fashion-mnist"
    )
    monkeypatch.setattr(idx, "DEBIAN_FASHION_MNIST", str(tmp_path))
    assert idx.default_root("fashion-mnist") == str(tmp_path)


# ------------------------------------------------------------------------------------ errors


def error_of(root: Path, split: str = "train", name: str = "mnist") -> str:
    with pytest.raises(SaddlepointError) as caught:
        load_dataset(config(root, name), split)
    return str(caught.value)


def test_missing_folder_names_the_download_command(tmp_path):
    message = error_of(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in message
    assert "saddlepoint data download mnist --to DIR" in message
    assert "--set data.root=DIR" in message


def test_missing_file(tmp_path, make_idx):
    make_idx(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    message = error_of(tmp_path, "test")
    assert "t10k-labels-idx1-ubyte" in message and str(tmp_path) in message


def test_wrong_magic_number(tmp_path, make_idx):
    make_idx(tmp_path, gz=False)
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes((tmp_path / "train-labels-idx1-ubyte").read_bytes())  # labels as images
    message = error_of(tmp_path)
    assert str(images) in message and "0x00000801" in message and "0x00000803" in message


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_truncated_file(tmp_path, make_idx, gz):
    make_idx(tmp_path, gz=gz)
    path = tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    raw = raw[:-5]
    path.write_bytes(gzip.compress(raw) if gz else raw)
    message = error_of(tmp_path, "test")
    assert str(path) in message and "truncated" in message


def test_truncated_gzip_stream(tmp_path, make_idx):
    make_idx(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-10])  # the compressed stream itself is cut short
    assert str(path) in error_of(tmp_path, "test")


def test_file_shorter_than_its_header(tmp_path, make_idx):
    make_idx(tmp_path, gz=False)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:6])
    message = error_of(tmp_path, "test")
    assert str(path) in message and "truncated" in message


def test_mismatched_counts(tmp_path, make_idx, idx_writer):
    make_idx(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    idx_writer(labels, np.zeros(6))
    message = error_of(tmp_path, "test")
    assert "t10k-images-idx3-ubyte.gz" in message and str(labels) in message
    assert "7 images" in message and "6 labels" in message


def test_label_out_of_range(tmp_path, make_idx, idx_writer):
    make_idx(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    idx_writer(labels, np.array([0, 1, 2, 3, 4, 5, 11]))
    message = error_of(tmp_path, "test")
    assert str(labels) in message and "11" in message


def test_training_file_too_small_for_the_validation_split(tmp_path, make_idx):
    make_idx(tmp_path, train=10_000)
    message = error_of(tmp_path, "valid")
    assert "train-images-idx3-ubyte.gz" in message and "10,000" in message
    assert len(load_dataset(config(tmp_path), "test")) == 7  # test still loads


# ------------------------------------------------------------------------------ real MNIST


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="../shared/data/mnist is not here")
def test_real_mnist_split():
    cfg = DataConfig(name="mnist", root=str(REAL_MNIST))
    train, valid, test = (load_dataset(cfg, split) for split in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (50_000, 10_000, 10_000)
    assert train.x.shape == (50_000, 1, 28, 28)
    assert int(train.y[0]) == 5 and int(test.y[0]) == 7  # the well-known first labels
    assert float(train.x.min()) == 0.0 and float(train.x.max()) == 1.0
    assert torch.bincount(train.y, minlength=10).min() > 4000


def test_missing_default_folder_also_offers_to_fill_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(SaddlepointError) as caught:
        load_dataset(DataConfig(name="mnist"), "train")
    default = tmp_path / ".cache" / "saddlepoint" / "mnist"
    assert f"run `saddlepoint data download mnist` to fill {default}" in str(caught.value)

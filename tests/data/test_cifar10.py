"""`cifar10`: the python batches read safely, CHW order, the 45,000/5,000 split, bad files."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from saddlepoint.config import DataConfig
from saddlepoint.data import cifar10, load_dataset
from saddlepoint.errors import SaddlepointError

from_py3 = pytest.mark.parametrize("protocol", [2, 4, 5])


def load(root, split="train"):
    return load_dataset(DataConfig(name="cifar10", root=str(root)), split)


def test_values_channels_and_split(tmp_path, make_cifar):
    folder = make_cifar(tmp_path / "cifar-10-batches-py", per_batch=20)
    train, valid, test = (load(folder, split) for split in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (90, 10, 20)  # 100 training: the last 10th
    assert train.x.shape == (90, 3, 32, 32) and train.x.dtype == torch.float32
    assert train.y.dtype == torch.int64
    # every image is red: channel 0 is 1.0, channels 1 and 2 are 0 except one marked pixel
    assert torch.all(train.x[:, 0, 1:, :] == 1.0)
    assert float(train.x[:, 1].double().sum()) == pytest.approx(90 * 7 / 255, rel=1e-6)
    assert torch.allclose(train.x[:, 1, 1, 0], torch.tensor(7 / 255), rtol=0, atol=1e-7)
    assert float(train.x[:, 2].max()) == 0.0
    # rows are row-major: pixel (row 0, column 1) of red carries the image's number
    numbers = torch.arange(100, dtype=torch.float32)
    assert torch.allclose(train.x[:, 0, 0, 1] * 255, numbers[:90])
    assert torch.allclose(valid.x[:, 0, 0, 1] * 255, numbers[90:])
    assert torch.allclose(test.x[:, 0, 0, 1] * 255, torch.arange(100, 120.0))
    assert torch.equal(train.y, torch.arange(90) % 10)
    assert torch.equal(test.y, torch.arange(100, 120) % 10)
    assert train.classes[0] == "airplane" and train.classes[9] == "truck"


def test_root_may_be_the_parent_folder(tmp_path, make_cifar):
    make_cifar(tmp_path / "cifar-10-batches-py", per_batch=10)
    assert len(load(tmp_path, "test")) == 10


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".cache" / "saddlepoint" / "cifar10" / "cifar-10-batches-py"
    assert cifar10.default_root() == str(expected)


@from_py3
def test_pickles_written_by_python3_also_load(tmp_path, make_cifar, protocol):
    folder = make_cifar(tmp_path, per_batch=10)
    data = np.full((10, 3072), 9, dtype=np.uint8)
    batch = {b"data": data, b"labels": [np.int64(3)] * 10, b"batch_label": b"x"}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=protocol))
    test = load(folder, "test")
    assert torch.allclose(test.x, torch.tensor(9 / 255), rtol=0, atol=1e-7)
    assert torch.equal(test.y, torch.full((10,), 3))


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path, make_cifar):
    folder = make_cifar(tmp_path, per_batch=10)
    marker = tmp_path / "pwned"
    batch = folder / "data_batch_3"
    batch.write_bytes(pickle.dumps({b"data": RunsACommand(marker), b"labels": []}, protocol=2))
    with pytest.raises(SaddlepointError) as caught:
        load(folder)
    assert str(batch) in str(caught.value) and "system" in str(caught.value)
    assert not marker.exists()


# ------------------------------------------------------------------------------------ errors


def error_of(root, split="train"):
    with pytest.raises(SaddlepointError) as caught:
        load(root, split)
    return str(caught.value)


def test_missing_folder_names_the_download_command(tmp_path):
    message = error_of(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in message
    assert "saddlepoint data download cifar10 --to DIR" in message
    assert "--set data.root=DIR" in message


def test_missing_batch(tmp_path, make_cifar):
    folder = make_cifar(tmp_path, per_batch=10)
    (folder / "data_batch_4").unlink()
    message = error_of(folder, "test")
    assert "data_batch_4" in message and str(folder) in message


def test_truncated_pickle(tmp_path, make_cifar):
    folder = make_cifar(tmp_path, per_batch=10)
    batch = folder / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:-100])
    assert str(batch) in error_of(folder)


def test_not_a_pickle(tmp_path, make_cifar):
    folder = make_cifar(tmp_path, per_batch=10)
    (folder / "test_batch").write_text("<html>404 not found</html>")
    assert str(folder / "test_batch") in error_of(folder, "test")


def test_wrong_data_shape(tmp_path, make_cifar, pickle_py2):
    folder = make_cifar(tmp_path, per_batch=10)
    batch = {"data": np.zeros((10, 3000), dtype=np.uint8), "labels": [0] * 10}
    (folder / "test_batch").write_bytes(pickle_py2(batch))
    message = error_of(folder, "test")
    assert str(folder / "test_batch") in message and "3000" in message


def test_mismatched_label_count(tmp_path, make_cifar, pickle_py2):
    folder = make_cifar(tmp_path, per_batch=10)
    batch = {"data": np.zeros((10, 3072), dtype=np.uint8), "labels": [0] * 9}
    (folder / "data_batch_5").write_bytes(pickle_py2(batch))
    message = error_of(folder, "valid")
    assert str(folder / "data_batch_5") in message and "9 labels" in message


def test_label_out_of_range(tmp_path, make_cifar, pickle_py2):
    folder = make_cifar(tmp_path, per_batch=10)
    batch = {"data": np.zeros((2, 3072), dtype=np.uint8), "labels": [0, 10]}
    (folder / "test_batch").write_bytes(pickle_py2(batch))
    assert str(folder / "test_batch") in error_of(folder, "test")


def test_bad_meta(tmp_path, make_cifar, pickle_py2):
    folder = make_cifar(tmp_path, per_batch=10)
    (folder / "batches.meta").write_bytes(pickle_py2({"label_names": ["a", "b"]}))
    assert str(folder / "batches.meta") in error_of(folder, "test")

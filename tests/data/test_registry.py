"""The dataset registry and load_dataset: names, the folder: prefix, options that do not apply."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from saddlepoint.config import DataConfig
from saddlepoint.data import DATASETS, SPLITS, load_dataset
from saddlepoint.errors import SaddlepointError


def test_every_source_is_registered_with_a_description():
    expected = {
        "mnist5k",
        "mnist",
        "fashion-mnist",
        "digits",
        "cifar10",
        "gaussian1d",
        "ring8",
        "grid25",
    }
    assert set(DATASETS) == expected
    for name, source in DATASETS.items():
        assert source.name == name and source.description
    file_based = {name for name, source in DATASETS.items() if source.default_root()}
    assert file_based == {"mnist", "fashion-mnist", "cifar10"}


def test_folder_prefix_is_routed(tmp_path):
    Image.fromarray(np.zeros((5, 5), dtype=np.uint8)).save(tmp_path / "a.png")
    data = load_dataset(DataConfig(name=f"folder:{tmp_path}"), "test")
    assert data.name == f"folder:{tmp_path}" and data.x.shape == (1, 1, 5, 5)


@pytest.mark.parametrize("setting", [{"image_size": 8}, {"channels": 3}])
def test_folder_only_options_are_refused_elsewhere(setting):
    with pytest.raises(SaddlepointError, match="only to folder:PATH"):
        load_dataset(DataConfig(name="digits", **setting))


@pytest.mark.parametrize("name", ["digits", "ring8", "folder:/x"])
def test_root_is_refused_where_it_would_be_ignored(name):
    with pytest.raises(SaddlepointError, match="data.root"):
        load_dataset(DataConfig(name=name, root="/somewhere"))


def test_unknown_name_and_split():
    with pytest.raises(SaddlepointError, match="fashion-mnist"):
        load_dataset(DataConfig(name="fashion_mnist"))
    with pytest.raises(SaddlepointError, match=", ".join(SPLITS)):
        load_dataset(DataConfig(name="digits"), "validation")

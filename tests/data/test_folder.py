"""`folder:PATH`: PNG/JPEG folders of any size, grey or colour, with or without class folders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from saddlepoint.config import DataConfig
from saddlepoint.data import folder, load_dataset
from saddlepoint.errors import SaddlepointError


def save(path, array, mode=None, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode).save(path, **kwargs)
    return path


def load(root, split="train", **kwargs):
    return load_dataset(DataConfig(name=f"folder:{root}", **kwargs), split)


def grey_set(root, count, size=(5, 3)):
    """`count` grey PNGs, height x width = size, image i filled with 10 * i."""
    for i in range(count):
        save(root / f"img{i:02d}.png", np.full(size, 10 * i))


def test_grey_values_centre_crop_and_default_size(tmp_path):
    columns = np.tile(np.arange(6) * 50 + 5, (4, 1))  # (H=4, W=6): column c holds 50 c + 5
    columns[0, 1] = 255
    save(tmp_path / "a.png", columns)
    save(tmp_path / "b.png", np.zeros((4, 6)))
    data = load(tmp_path)
    assert data.x.shape == (2, 1, 4, 4) and data.y is None and data.classes is None
    first = data.x[int(torch.argmax(data.x.sum(dim=(1, 2, 3))))]  # the non-black image
    # the 4x4 centre crop keeps columns 1..4; no resize, so the values are exact
    expected = torch.tensor(np.tile(np.arange(1, 5) * 50 + 5, (4, 1)), dtype=torch.float32) / 255
    expected[0, 0] = 1.0  # the 255 pixel, now at column 0 of the crop
    assert torch.equal(first[0], expected)


def test_colour_png_stays_red_in_channel_0_and_jpeg_is_read(tmp_path):
    red = np.zeros((8, 8, 3))
    red[..., 0] = 255
    save(tmp_path / "red.png", red)
    save(tmp_path / "grey.png", np.full((8, 8), 128))  # grey images are replicated into RGB
    save(tmp_path / "photo.JPG", red, quality=95)  # upper-case extension counts too
    data = load(tmp_path)
    assert data.x.shape == (3, 3, 8, 8)
    reds = data.x[data.x[:, 1].mean(dim=(1, 2)) < 0.1]  # (2, 3, 8, 8): the PNG and the JPEG
    assert len(reds) == 2
    assert torch.all(reds[:, 0] > 0.95) and torch.all(reds[:, 1:] < 0.05)
    assert torch.equal(reds.amax(dim=0)[0], torch.ones(8, 8))  # the PNG is exact
    grey = data.x[data.x[:, 1].mean(dim=(1, 2)) > 0.1][0]
    assert torch.allclose(grey, torch.tensor(128 / 255), rtol=0, atol=1e-7)


def test_channels_and_size_from_the_config(tmp_path):
    red = np.zeros((10, 20, 3))
    red[..., 0] = 200
    save(tmp_path / "wide.png", red)
    save(tmp_path / "odd.png", np.full((7, 5, 3), 200))  # different sizes: resized
    grey = load(tmp_path, channels=1, image_size=6)
    assert grey.x.shape == (2, 1, 6, 6)
    expected_luma = round(200 * 299 / 1000) / 255  # ITU-R 601-2 luma of pure red, as Pillow does
    assert grey.x.min().item() == pytest.approx(expected_luma, abs=1 / 255)
    default = load(tmp_path, channels=3)
    assert default.x.shape == (2, 3, 64, 64)  # differing sizes and no image_size: 64


def test_class_subfolders_give_labels(tmp_path):
    for name, value in (("zebra", 30), ("cat", 10), ("dog", 20)):
        for i in range(2):
            save(tmp_path / name / "nested" / f"{i}.png", np.full((4, 4), value))
    data = load(tmp_path)
    assert data.classes == ("cat", "dog", "zebra")
    assert len(data) == 6
    for image, label in zip(data.x, data.y):
        assert round(float(image.mean()) * 255) == (10, 20, 30)[label]


def test_a_single_subfolder_or_top_level_images_mean_unlabelled(tmp_path):
    save(tmp_path / "only" / "a.png", np.zeros((4, 4)))
    assert load(tmp_path).y is None
    save(tmp_path / "other" / "b.png", np.zeros((4, 4)))
    save(tmp_path / "loose.png", np.zeros((4, 4)))
    data = load(tmp_path)
    assert data.y is None and len(data) == 3


def test_split_is_a_seeded_80_10_10_partition(tmp_path):
    grey_set(tmp_path, 23)
    parts = [load(tmp_path, split) for split in ("train", "valid", "test")]
    assert [len(p) for p in parts] == [19, 2, 2]  # valid and test: 23 // 10 each
    values = torch.cat([p.x[:, 0, 0, 0] for p in parts]) * 255
    assert sorted(round(v) for v in values.tolist()) == [10 * i for i in range(23)]
    again = load(tmp_path, "valid")
    assert torch.equal(again.x, parts[1].x)  # deterministic


def test_fewer_than_ten_images_use_all_in_every_split(tmp_path):
    grey_set(tmp_path, 4)
    for split in ("train", "valid", "test"):
        assert len(load(tmp_path, split)) == 4


def test_limit_and_hidden_files(tmp_path):
    grey_set(tmp_path, 12)
    (tmp_path / ".thumbs").mkdir()
    (tmp_path / ".thumbs" / "junk.png").write_text("not an image")
    (tmp_path / "._img00.png").write_text("macOS resource fork")
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")
    assert len(load(tmp_path, limit=3)) == 3
    assert len(load(tmp_path, "test")) == 1


def test_sixteen_bit_png_is_scaled(tmp_path):
    wide = np.full((4, 4), 65535, dtype=np.uint16)
    wide[0, 0] = 0
    Image.fromarray(wide).save(tmp_path / "deep.png")
    data = load(tmp_path)
    assert data.x[0, 0, 0, 0].item() == 0.0 and data.x[0, 0, 1, 1].item() == 1.0


def test_palette_images_are_grey_or_colour_by_their_palette(tmp_path):
    Image.fromarray(np.full((4, 4), 90, dtype=np.uint8)).convert("P").save(tmp_path / "p.png")
    assert load(tmp_path).x.shape == (1, 1, 4, 4)
    red = np.zeros((4, 4, 3), dtype=np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).convert("P").save(tmp_path / "q.png")
    data = load(tmp_path)
    assert data.x.shape == (2, 3, 4, 4)
    red_index = int(torch.argmin(data.x[:, 1].mean(dim=(1, 2))))
    assert torch.equal(data.x[red_index, 0], torch.ones(4, 4))
    assert float(data.x[red_index, 1:].abs().max()) == 0.0
    assert torch.allclose(data.x[1 - red_index], torch.tensor(90 / 255), rtol=0, atol=1e-7)


def test_cache_sees_new_files(tmp_path):
    grey_set(tmp_path, 3)
    assert len(load(tmp_path)) == 3
    save(tmp_path / "new.png", np.zeros((5, 3)))
    assert len(load(tmp_path)) == 4


# ------------------------------------------------------------------------------------ errors


def error_of(root, **kwargs):
    with pytest.raises(SaddlepointError) as caught:
        load(root, **kwargs)
    return str(caught.value)


def test_missing_folder(tmp_path):
    assert str(tmp_path / "nowhere") in error_of(tmp_path / "nowhere")


def test_empty_folder_names_the_extensions(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    message = error_of(tmp_path)
    assert str(tmp_path) in message and ".png" in message and ".jpg" in message


def test_junk_with_an_image_extension_is_named(tmp_path):
    grey_set(tmp_path, 2)
    junk = tmp_path / "sub" / "fake.jpeg"
    junk.parent.mkdir()
    junk.write_text("<html>this is not a JPEG</html>")
    assert str(junk) in error_of(tmp_path)


def test_truncated_png_is_named(tmp_path):
    path = save(tmp_path / "cut.png", np.random.default_rng(0).integers(0, 255, (64, 64)))
    path.write_bytes(path.read_bytes()[:200])
    assert str(path) in error_of(tmp_path)


def test_empty_path_after_the_prefix():
    with pytest.raises(SaddlepointError, match="folder:"):
        folder.folder_path("folder:")

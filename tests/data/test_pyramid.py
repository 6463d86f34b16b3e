"""The Laplacian pyramid: exact inversion, d and u against independent numpy versions, padding,
and the per-level datasets that `load_dataset` returns for data.pyramid_level."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from saddlepoint.config import Config, DataConfig, override
from saddlepoint.data import load_dataset, pyramid
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # the conftest fixture restores the count afterwards


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """The first 300 bundled MNIST digits, (300, 1, 28, 28) in [0, 1]."""
    return load_dataset(DataConfig(name="mnist5k", limit=300), "train").x


def _upsample_1d(a: np.ndarray, axis: int) -> np.ndarray:
    """Bilinear doubling along one axis, written out: output i samples the input at
    (i + 0.5) / 2 - 0.5 (half-pixel centres), clamped to the edge pixels."""
    n = a.shape[axis]
    out = []
    for i in range(2 * n):
        s = max((i + 0.5) / 2 - 0.5, 0.0)
        lo = min(int(np.floor(s)), n - 1)
        hi = min(lo + 1, n - 1)
        w = s - lo
        out.append((1 - w) * np.take(a, lo, axis=axis) + w * np.take(a, hi, axis=axis))
    return np.stack(out, axis=axis)


def test_downsample_and_upsample_match_numpy():
    x = torch.rand(2, 3, 8, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a = x.numpy()
    mean_2x2 = a.reshape(2, 3, 4, 2, 3, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(pyramid.downsample(x).numpy(), mean_2x2, rtol=0, atol=1e-15)
    expected = _upsample_1d(_upsample_1d(a, 2), 3)  # separable: rows, then columns
    np.testing.assert_allclose(pyramid.upsample(x).numpy(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-14)])
@pytest.mark.parametrize("kind", ["mnist-28-padded", "rgb-32"])
def test_reconstruct_inverts_decompose(digits, kind, dtype, tol):
    if kind == "mnist-28-padded":
        x = pyramid.pad(digits[:64]).to(dtype)  # (64, 1, 32, 32)
    else:
        x = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(1)).to(dtype)
    for levels in (2, 3, 4):
        bands = pyramid.decompose(x, levels)
        sides = [32 // 2**k for k in range(levels)]
        assert [tuple(b.shape) for b in bands] == [(len(x), x.shape[1], s, s) for s in sides]
        assert all(b.dtype == dtype for b in bands)
        error = (pyramid.reconstruct(bands) - x).abs().max().item()
        assert error <= tol
    # not trivially exact: the band-pass images carry real detail
    assert bands[0].abs().max() > 0.1


def test_band_pass_of_known_images():
    # a constant image has no detail: every band-pass is 0 and the low-pass is the constant
    bands = pyramid.decompose(torch.full((1, 1, 8, 8), 0.3, dtype=torch.float64), 3)
    assert all(torch.all(b.abs() < 1e-15) for b in bands[:-1])
    assert torch.allclose(bands[-1], torch.full((1, 1, 2, 2), 0.3, dtype=torch.float64))
    # a one-pixel checkerboard is pure finest detail: l_1 = 1/2 everywhere, h_0 = x - 1/2
    board = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2
    x = board.to(torch.float64).view(1, 1, 8, 8)
    bands = pyramid.decompose(x, 3)
    assert torch.allclose(bands[0], x - 0.5, rtol=0, atol=1e-15)
    assert torch.allclose(bands[1], torch.zeros(1, 1, 4, 4, dtype=torch.float64), atol=1e-15)


def test_padding_is_centred_black_and_crop_undoes_it(digits):
    assert [pyramid.padded_size(s) for s in (28, 32, 7, 8, 33, 1)] == [32, 32, 8, 8, 64, 1]
    padded = pyramid.pad(digits[:10])
    assert padded.shape == (10, 1, 32, 32)
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False  # 2 pixels each side
    assert torch.all(padded[..., border] == 0)
    assert torch.equal(padded[..., 2:30, 2:30], digits[:10])
    assert torch.equal(pyramid.crop(padded, (28, 28)), digits[:10])
    odd = torch.rand(1, 3, 5, 7)
    assert pyramid.pad(odd).shape == (1, 3, 8, 8)
    assert torch.equal(pyramid.crop(pyramid.pad(odd), (5, 7)), odd)


def test_level_datasets_are_the_decomposition(digits):
    bands = pyramid.decompose(pyramid.pad(digits), 3)
    lows = pyramid.lowpass(pyramid.pad(digits), 3)
    for level in range(3):
        data = load_dataset(DataConfig(name="mnist5k", limit=300, pyramid_level=level), "train")
        assert torch.equal(data.x, bands[level])
        if level < 2:
            # x = h_k, y = u(l_{k+1}) the condition, and h_k + u(l_{k+1}) = l_k
            assert data.y.shape == data.x.shape and data.y.dtype == torch.float32
            assert torch.equal(data.y, pyramid.upsample(lows[level + 1]))
            assert torch.allclose(data.x + data.y, lows[level], rtol=0, atol=1e-6)
            assert data.classes is None
            assert -1 <= data.x.min() < -0.3 and 0.3 < data.x.max() <= 1  # band-pass range
            assert 0 <= data.y.min() and data.y.max() <= 1
        else:  # the top level keeps the class labels
            labels = load_dataset(DataConfig(name="mnist5k", limit=300), "train")
            assert torch.equal(data.y, labels.y) and data.classes == labels.classes
            assert 0 <= data.x.min() and data.x.max() <= 1


def test_band_pass_spread_of_the_bundled_digits():
    """The spread of each level on all 4,000 bundled digits, measured once (a change of d or u
    moves these: with nearest-neighbour u the level-0 spread is 0.113, not 0.107)."""
    x = pyramid.pad(load_dataset(DataConfig(name="mnist5k"), "train").x)
    stds = [b.std().item() for b in pyramid.decompose(x, 3)]
    assert stds == pytest.approx([0.1072, 0.1452, 0.2063], abs=5e-4)


def test_colour_pyramid_levels(tmp_path, make_cifar):
    folder = make_cifar(tmp_path / "cifar-10-batches-py", per_batch=10)
    for level, side in ((0, 32), (1, 16), (2, 8)):
        data = load_dataset(DataConfig(name="cifar10", root=str(folder), pyramid_level=level))
        assert data.x.shape == (45, 3, side, side)  # 32x32 is not padded
    assert data.y.dtype == torch.int64


def test_unfit_data_and_settings_are_refused():
    with pytest.raises(SaddlepointError, match="needs images"):
        load_dataset(DataConfig(name="ring8", pyramid_level=0))
    images = Dataset("tiny", "train", torch.rand(4, 1, 28, 28))
    with pytest.raises(SaddlepointError, match="data.pyramid_levels=5 or fewer"):
        pyramid.level_dataset(images, 0, 6)  # 32 -> 1x1 at the top
    with pytest.raises(SaddlepointError, match="pyramid_level must lie in 0..2"):
        override(Config(), ["data.pyramid_level=3"])
    with pytest.raises(SaddlepointError, match="pyramid_levels must be at least 2"):
        override(Config(), ["data.pyramid_levels=1"])
    with pytest.raises(SaddlepointError, match="both model.generator and model.discriminator"):
        override(Config(), ["model.generator=lapgan"])

"""A generator's health numbers on hand-built cases: real digits replayed as samples, a
generator collapsed onto one digit, a conditional generator that obeys (or ignores) its label,
and InfoGAN codes that do (or do not) pick the class."""

from __future__ import annotations

import math

import pytest
import torch

from saddlepoint.config import DataConfig
from saddlepoint.evaluate.features import Extractor
from saddlepoint.evaluate.health import (
    MIN_SHARE,
    code_class_accuracy,
    generator_health,
    images_health,
    min_count,
    real_health,
)
from saddlepoint.evaluate.statistics import split_images
from saddlepoint.nets.base import Generator
from saddlepoint.nets.latent import LatentSpec

MNIST5K = DataConfig(name="mnist5k")


def test_min_count_is_a_share_of_the_fair_share() -> None:
    assert min_count(2000, 10) == math.ceil(MIN_SHARE * 200) == 40
    assert min_count(3, 10) == 1  # never below one sample
    assert min_count(1000, 10, share=0.5) == 50


def test_code_accuracy_maps_each_code_to_its_majority_class() -> None:
    codes = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    predicted = torch.tensor([3, 3, 3, 5, 7, 7, 1, 1, 3, 3])
    # code 0 -> 3 (3 of 4), code 1 -> a tie, broken to the lower class 1 (2 of 4), code 2 -> 3
    accuracy, classes = code_class_accuracy(predicted, codes, values=3)
    assert accuracy == pytest.approx((3 + 2 + 2) / 10, abs=1e-12)
    assert classes == 2  # codes 0 and 2 share class 3
    assert code_class_accuracy(predicted, codes, values=5) == (accuracy, classes)  # unused codes


class _Replay(Generator):
    """Replays fixed images as 'samples': z[:, 0] indexes them; class-conditional when
    `by_class` (then it draws an image of the asked class, or of class 0 if `ignore_label`)."""

    def __init__(self, images, labels=None, ignore_label=False, categorical=()) -> None:
        super().__init__()
        self.images, self.labels, self.ignore_label = images, labels, ignore_label
        self.latent = LatentSpec(1, categorical=categorical)
        self.shape, self.output = tuple(images.shape[1:]), "sigmoid"
        self.num_classes = 10 if labels is not None else 0
        self.scale = torch.nn.Parameter(torch.ones(()))  # a parameter: G has a device

    def forward(self, z, y=None):
        index = ((z[:, 0] + 3**0.5) / (2 * 3**0.5) * len(self.images)).long()
        index = index.clamp(0, len(self.images) - 1)
        if y is None:
            return self.images[index]
        pools = [torch.nonzero(self.labels == (0 if self.ignore_label else c))[:, 0] for c in y]
        return torch.stack([self.images[p[i % len(p)]] for p, i in zip(pools, index.tolist())])


@pytest.fixture(scope="module")
def digits():
    return split_images(MNIST5K, "train", 2000)


def test_real_digits_are_healthy_and_a_collapsed_generator_is_not(digits, classifier_cache):
    real = real_health(MNIST5K, n=2000, cache_dir=classifier_cache)
    assert real.covered == 10 and real.min_count == 40
    assert 0.9 < real.diversity < 1.1  # two samples of the same digits: ratio ~1
    assert real.kl < 0.05  # the class histogram of real digits is the data's
    images, labels = digits
    one_digit = images[labels == 5][:1].expand(2000, -1, -1, -1)  # every sample the same "5"
    collapsed = images_health(one_digit, MNIST5K, cache_dir=classifier_cache)
    assert collapsed.covered == 1
    assert collapsed.diversity == pytest.approx(0.0, abs=1e-12)
    assert collapsed.distance > 10 * real.distance
    # all samples in one class y: KL(q || p) = -log p_y, p the test split's class frequencies
    (y,) = [c for c, count in enumerate(collapsed.counts) if count]
    _, test_labels = split_images(MNIST5K, "test", None)
    p_y = float((test_labels == y).double().mean())
    assert collapsed.kl == pytest.approx(-math.log(p_y), abs=1e-9)


def test_conditional_accuracy_of_an_obedient_and_a_deaf_generator(digits, classifier_cache):
    images, labels = digits
    obedient = generator_health(
        _Replay(images, labels), MNIST5K, n=1000, cache_dir=classifier_cache
    )
    deaf = generator_health(
        _Replay(images, labels, ignore_label=True), MNIST5K, n=1000, cache_dir=classifier_cache
    )
    assert obedient.conditional_accuracy > 0.9  # the classifier's own accuracy, ~0.97
    assert deaf.conditional_accuracy == pytest.approx(0.1, abs=0.02)  # 1 in 10 asks for a 0
    assert deaf.covered == 1


def test_code_accuracy_of_codes_that_ignore_the_class(digits, classifier_cache):
    images, _ = digits
    g = _Replay(images, categorical=(10,))  # the code is drawn but the image ignores it
    health = generator_health(g, MNIST5K, n=2000, cache_dir=classifier_cache)
    # each code value's samples are ~uniform over the digits: its majority class holds only
    # about 1/10 + sampling noise of them (200 samples per code value, ~20 per class)
    assert 0.1 <= health.code_accuracy < 0.2
    assert health.conditional_accuracy is None


def test_code_accuracy_of_a_permuted_code_with_known_noise() -> None:
    # code value c names class perm[c]; of its 20 samples, the first c // 2 are given class
    # perm[c] + 1 instead (at most 4 of 20: the majority stays perm[c])
    perm = [3, 7, 0, 9, 1, 4, 8, 2, 6, 5]
    codes, predicted = [], []
    for c in range(10):
        for i in range(20):
            codes.append(c)
            predicted.append((perm[c] + 1) % 10 if i < c // 2 else perm[c])
    wrong = sum(c // 2 for c in range(10))  # 0+0+1+1+2+2+3+3+4+4 = 20 of 200
    accuracy, classes = code_class_accuracy(torch.tensor(predicted), torch.tensor(codes), 10)
    assert accuracy == pytest.approx((200 - wrong) / 200, abs=1e-12) == pytest.approx(0.9)
    assert classes == 10  # a permutation: every code value has a class of its own


MISLABEL_ABOVE = 1.0  # a sample whose noise z_0 exceeds this is painted the next class


def _painted_class(z: torch.Tensor) -> torch.Tensor:
    """(B,) 1 where the painter mislabels a sample: z_0 ~ U(-sqrt 3, sqrt 3) above 1 (~21%)."""
    return (z[:, 0] > MISLABEL_ABOVE).long()


class _Painter(Generator):
    """Paints its class into pixel (0, 0) as (class + 1/2) / 10 and fills the rest with z_0:
    the asked class (class-conditional) or perm[first code value] (InfoGAN), plus one when
    z_0 > MISLABEL_ABOVE. It keeps the z it was given, for the test to count by hand."""

    def __init__(self, conditional: bool, perm: list[int]) -> None:
        super().__init__()
        self.latent = LatentSpec(1, categorical=() if conditional else (10,))
        self.shape, self.output = (1, 28, 28), "sigmoid"
        self.num_classes = 10 if conditional else 0
        self.perm = torch.tensor(perm)
        self.scale = torch.nn.Parameter(torch.ones(()))  # a parameter: G has a device

    def forward(self, z, y=None):
        self.seen = z.clone()
        intended = y if y is not None else self.perm[z[:, 1:11].argmax(dim=1)]
        painted = (intended + _painted_class(z)) % 10
        x = ((z[:, 0] + 3**0.5) / (2 * 3**0.5))[:, None, None, None].expand(-1, 1, 28, 28)
        x = x.clone()
        x[:, 0, 0, 0] = (painted.float() + 0.5) / 10
        return x


def _pixel_reader() -> Extractor:
    """A stand-in classifier: the class is read from pixel (0, 0); features (mean, std)."""

    def embed(x):
        cls = (x[:, 0, 0, 0] * 10).floor().long().clamp(0, 9)
        features = torch.stack([x.mean(dim=(1, 2, 3)), x.std(dim=(1, 2, 3))], dim=1)
        return features, 5.0 * torch.nn.functional.one_hot(cls, 10).float()

    return Extractor(
        name="pixel-reader",
        standard=False,
        network=torch.nn.Identity(),
        embed=embed,
        preprocessing="none",
        weights_sha256="pixel-reader-test",
        feature_dim=2,
        classes=10,
        batch_size=500,
    )


def test_conditional_and_code_accuracy_of_a_painter_counted_by_hand(tmp_path) -> None:
    perm = [3, 7, 0, 9, 1, 4, 8, 2, 6, 5]
    reader = _pixel_reader()
    conditional = _Painter(conditional=True, perm=perm)
    health = generator_health(conditional, MNIST5K, n=600, extractor=reader, cache_dir=tmp_path)
    mislabelled = int(_painted_class(conditional.seen).sum())
    assert 0 < mislabelled < 600  # the rule bites, and not everywhere
    assert health.conditional_accuracy == pytest.approx(1 - mislabelled / 600, abs=1e-12)
    assert health.code_accuracy is None

    info = _Painter(conditional=False, perm=perm)
    health = generator_health(info, MNIST5K, n=600, extractor=reader, cache_dir=tmp_path)
    z = info.seen
    codes, wrong = z[:, 1:11].argmax(dim=1), _painted_class(z)
    for c in range(10):  # by hand: each code value's majority is its own perm[c] ...
        assert int(wrong[codes == c].sum()) < int((codes == c).sum()) / 2
    # ... so the right ones are exactly those painted without the slip
    assert health.code_accuracy == pytest.approx(1 - int(wrong.sum()) / 600, abs=1e-12)
    assert health.code_classes == 10
    assert health.conditional_accuracy is None

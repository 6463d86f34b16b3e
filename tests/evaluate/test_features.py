"""Feature extractors: the FID Inception-v3 built and loaded from a weights file (no real
weights can be had offline, so a state dict of the right keys and shapes is made here), its
TensorFlow-1 resize against the formula, the dataset classifier trained on a small subset, and
the cached reference statistics."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest
import torch

from saddlepoint.config import DataConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate import classifier as classifier_module
from saddlepoint.evaluate import inception
from saddlepoint.evaluate import statistics as statistics_module
from saddlepoint.evaluate.classifier import ClassifierRecipe, load_classifier
from saddlepoint.evaluate.features import get_extractor
from saddlepoint.evaluate.statistics import reference_statistics

MNIST5K = DataConfig(name="mnist5k")
SMALL = ClassifierRecipe(limit=2000, epochs=1, batch_size=32)  # about 3 CPU seconds, 1 thread


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> tuple:
    """A random FID Inception-v3 state dict (batch-norm statistics perturbed) saved as .pth."""
    torch.manual_seed(0)
    network = inception.FIDInceptionV3().eval()
    state = network.state_dict()
    for name, tensor in state.items():
        if name.endswith("running_mean"):
            tensor.normal_(0, 0.1)
        elif name.endswith("running_var"):
            tensor.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(state, path)
    return path, state


def test_inception_has_the_ports_layout() -> None:
    """566 tensors and 23,850,960 weights with the names of pytorch-fid's and torch-fidelity's
    file (counted from torch-fidelity 0.4.0's FeatureExtractorInceptionV3, whose outputs matched
    this network's to 6e-8 on the same random weights when checked by hand)."""
    state = inception.FIDInceptionV3().state_dict()
    weights = sum(v.numel() for k, v in state.items() if "running" not in k and "batches" not in k)
    assert (len(state), weights) == (566, 23_850_960)
    assert state["Mixed_7c.branch_pool.conv.weight"].shape == (192, 2048, 1, 1)
    assert state["Conv2d_1a_3x3.bn.running_var"].shape == (32,)
    assert state["fc.weight"].shape == (1008, 2048) and "fc.bias" in state


def test_inception_loads_a_weights_file_and_gives_2048_features(weights) -> None:
    torch.set_num_threads(1)
    path, state = weights
    network, found, sha256 = inception.load_inception(path)
    assert found == path and len(sha256) == 64
    for name, tensor in network.state_dict().items():
        assert torch.equal(tensor, state[name]), name
    x = torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        pool, logits = network(x)
    assert pool.shape == (2, 2048) and logits.shape == (2, 1008)
    assert bool((pool >= 0).all()) and pool.abs().sum() > 0  # averaged ReLU outputs
    # logits are pool features times fc's weights, without its bias (the original IS code)
    assert torch.allclose(logits, pool @ state["fc.weight"].T, atol=1e-5)


def test_inception_extractor_on_grey_28x28_images(weights) -> None:
    torch.set_num_threads(1)
    path, _ = weights
    ex = get_extractor("inception", MNIST5K, weights=path)
    assert ex.standard and ex.key()["weights_sha256"] == inception.file_sha256(path)
    assert ex.info["weights_are_published_file"] is False  # a random file is not the published one
    out = ex.extract(torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(2)))
    assert out.features.shape == (3, 2048) and out.logits.shape == (3, 1008)


def test_missing_weights_say_where_the_file_comes_from(tmp_path, monkeypatch) -> None:
    with pytest.raises(SaddlepointError) as error:
        inception.load_inception(tmp_path / "nowhere.pth")
    message = str(error.value)
    assert inception.FID_WEIGHTS_URL in message and "--weights PATH" in message
    assert "\n" not in message
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(SaddlepointError, match="none is in .*hub"):
        inception.find_weights(None)
    cached = tmp_path / "hub" / "checkpoints" / inception.WEIGHT_FILES[1]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    assert inception.find_weights(None) == cached  # torch-fidelity's name is found too


def test_wrong_weights_files_are_one_clear_error(tmp_path, weights) -> None:
    foreign = tmp_path / "foreign.pth"
    torch.save({"conv.weight": torch.zeros(3)}, foreign)
    with pytest.raises(SaddlepointError, match="not the FID Inception-v3"):
        inception.load_inception(foreign)
    _, state = weights
    wrong = dict(state)
    wrong["fc.weight"] = torch.zeros(1000, 2048)
    torch.save(wrong, tmp_path / "wrong.pth")
    with pytest.raises(SaddlepointError, match="not the FID Inception-v3"):
        inception.load_inception(tmp_path / "wrong.pth")
    (tmp_path / "truncated.pth").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SaddlepointError, match="not a readable"):
        inception.load_inception(tmp_path / "truncated.pth")


def tf1_resize_reference(image: list[list[float]], size: int) -> list[list[float]]:
    """TensorFlow 1 resize_bilinear(align_corners=False), one output pixel at a time."""
    h, w = len(image), len(image[0])

    def sample(y: float, x: float) -> float:
        y0, x0 = math.floor(y), math.floor(x)
        y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
        dy, dx = y - y0, x - x0
        top = image[y0][x0] * (1 - dx) + image[y0][x1] * dx
        bottom = image[y1][x0] * (1 - dx) + image[y1][x1] * dx
        return top * (1 - dy) + bottom * dy

    return [[sample(i * h / size, j * w / size) for j in range(size)] for i in range(size)]


def test_tf1_resize_against_the_formula() -> None:
    assert inception.resize_bilinear_tf1(torch.tensor([[[[0.0, 1.0]]]]).expand(1, 1, 2, 2), 4)[
        0, 0, 0
    ].tolist() == [0.0, 0.5, 1.0, 1.0]  # no half-pixel offset: the last input is repeated
    image = torch.rand(1, 1, 7, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    got = inception.resize_bilinear_tf1(image, 13)[0, 0]
    expected = torch.tensor(tf1_resize_reference(image[0, 0].tolist(), 13), dtype=torch.float64)
    assert torch.allclose(got, expected, atol=1e-6)
    x = torch.full((1, 1, 28, 28), 0.5)
    assert inception.preprocess(x).shape == (1, 3, 299, 299)
    assert inception.preprocess(torch.ones(1, 3, 4, 4)).max() == pytest.approx(127 / 128)


# ------------------------------------------------------------------------------- the classifier


@pytest.fixture(scope="module")
def small_classifier(tmp_path_factory):
    torch.set_num_threads(1)
    cache = tmp_path_factory.mktemp("cache")
    start = time.perf_counter()
    trained = load_classifier(MNIST5K, recipe=SMALL, cache_dir=cache, log=None)
    return trained, cache, time.perf_counter() - start


def test_classifier_trained_on_2000_digits_is_far_above_chance(small_classifier) -> None:
    """On the 500 mnist5k test digits, after one epoch on 2,000 training digits: 0.930 measured
    (0.904-0.930 over recipe seeds 0-7; chance is 0.1); the benchmark records the full
    classifiers (MNIST > 0.99, Fashion > 0.90)."""
    trained, cache, _ = small_classifier
    assert trained.meta["train_images"] == 2000 and trained.meta["test_images"] == 500
    assert 0.85 < trained.test_accuracy <= 1.0
    assert trained.path.parent == cache / "classifiers" and trained.path.name.startswith("mnist5k-")


def test_classifier_cache_is_reused_and_named_by_its_recipe(small_classifier) -> None:
    trained, cache, _ = small_classifier
    classifier_module._LOADED.clear()
    again = load_classifier(MNIST5K, recipe=SMALL, cache_dir=cache, log=None)  # from the file
    assert again.path == trained.path and again.sha256 == trained.sha256
    assert again.meta == trained.meta
    for name, tensor in again.network.state_dict().items():
        assert torch.equal(tensor, trained.network.state_dict()[name])
    other = classifier_module.classifier_key(
        MNIST5K, dataclasses.replace(SMALL, seed=1), torch.zeros(1), torch.zeros(1)
    )
    assert other["recipe"]["seed"] == 1 and other != trained.meta["key"]


def test_classifier_training_is_deterministic() -> None:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(4)
    x, y = torch.rand(64, 1, 12, 12, generator=g), torch.randint(0, 3, (64,), generator=g)
    recipe = ClassifierRecipe(epochs=1, batch_size=16)
    a = classifier_module.train_classifier(x, y, 3, recipe).state_dict()
    b = classifier_module.train_classifier(x, y, 3, recipe).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_classifier_extractor_features_and_errors(small_classifier, monkeypatch) -> None:
    trained, cache, _ = small_classifier
    monkeypatch.setattr(classifier_module, "DEFAULT_RECIPE", SMALL)
    ex = get_extractor("classifier", MNIST5K, cache_dir=cache)
    assert not ex.standard and ex.info["classifier_test_accuracy"] == trained.test_accuracy
    out = ex.extract(torch.rand(5, 1, 28, 28))
    assert out.features.shape == (5, 128) and out.logits.shape == (5, 10)
    with pytest.raises(SaddlepointError, match="reads 1x28x28 images"):
        ex.extract(torch.rand(2, 1, 8, 8))
    with pytest.raises(SaddlepointError, match=r"lie in \[0, 1\]"):
        ex.extract(torch.rand(2, 1, 28, 28) * 2 - 1)
    with pytest.raises(SaddlepointError, match="drop --weights"):
        get_extractor("classifier", MNIST5K, weights="x.pth", cache_dir=cache)
    with pytest.raises(SaddlepointError, match="unknown extractor 'vgg'"):
        get_extractor("vgg", MNIST5K)
    with pytest.raises(SaddlepointError, match="points, not images"):
        get_extractor("classifier", DataConfig(name="ring8"), cache_dir=cache)


def test_reference_statistics_are_cached_under_a_full_key(small_classifier, monkeypatch) -> None:
    _, cache, _ = small_classifier
    monkeypatch.setattr(classifier_module, "DEFAULT_RECIPE", SMALL)
    ex = get_extractor("classifier", MNIST5K, cache_dir=cache)
    ref = reference_statistics(MNIST5K, "test", ex, n=300, cache_dir=cache)
    assert ref.n == 300 and ref.labels is not None and ref.labels.shape == (300,)
    assert ref.path.name.startswith("mnist5k-test-300-classifier-")
    for field in ("dataset", "split", "images", "images_sha256", "extractor", "weights_sha256"):
        assert field in ref.key
    assert ref.key["preprocessing"] == ex.preprocessing
    statistics_module._MEMO.clear()
    again = reference_statistics(MNIST5K, "test", ex, n=300, cache_dir=cache)  # from the file
    assert again.path == ref.path and torch.equal(again.features, ref.features)
    assert torch.equal(again.stats.sigma, ref.stats.sigma)
    with pytest.raises(SaddlepointError, match="at most 500"):
        reference_statistics(MNIST5K, "test", ex, n=501, cache_dir=cache)


def test_classifier_training_shows_its_progress(tmp_path, capsys) -> None:
    """The first eval on a dataset trains its classifier (minutes on MNIST): in a batch job's
    log (stderr not a terminal) its progress is plain status lines, here the closing one."""
    torch.set_num_threads(1)
    recipe = ClassifierRecipe(limit=300, epochs=1, batch_size=100)
    load_classifier(MNIST5K, recipe=recipe, cache_dir=tmp_path)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("saddlepoint: training the mnist5k feature classifier once")
    assert err[1].startswith("saddlepoint: mnist5k classifier: step 3/3 (100%), ")
    assert " loss " in err[1] and "test accuracy" in err[2]

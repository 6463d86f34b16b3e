"""`saddlepoint eval fid|kid|is|pr|classes` end to end: a tiny run is trained, scored by every
metric with a small dataset classifier (2,000 mnist5k digits, one epoch), and the printout, the
JSON, the sanity row and the errors are checked."""

from __future__ import annotations

import json
import re

import pytest
import torch
from tiny import tiny_argv

from saddlepoint.cli import main
from saddlepoint.config import DataConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate import classifier as classifier_module
from saddlepoint.evaluate.classifier import ClassifierRecipe
from saddlepoint.evaluate.metrics import METRICS, MetricResult, score_generator, score_run

SMALL = ClassifierRecipe(limit=2000, epochs=1, batch_size=32)
MNIST5K = DataConfig(name="mnist5k")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A trained tiny run (10 iterations on 200 digits) and a cache folder."""
    root = tmp_path_factory.mktemp("metrics")
    assert main(["train", "--quiet", "--out", str(root / "runs"), *tiny_argv()]) == 0
    (run,) = (root / "runs").iterdir()
    return run, root / "cache"


@pytest.fixture
def env(workspace, monkeypatch):
    run, cache = workspace
    torch.set_num_threads(1)
    monkeypatch.setenv("SADDLEPOINT_CACHE", str(cache))
    monkeypatch.setattr(classifier_module, "DEFAULT_RECIPE", SMALL)
    return run, cache


def number(line: str) -> float:
    return float(re.search(r": (-?[0-9.e+-]+)", line).group(1))


def test_registry_directions() -> None:
    assert list(METRICS) == ["fid", "kid", "is", "pr", "classes"]
    assert [m.higher_is_better for m in METRICS.values()] == [False, False, True, True, False]
    low = MetricResult("fid", 3.0, {}, False)
    assert low.better_than(MetricResult("fid", 4.0, {}, False)) and low.better_than(None)
    assert not MetricResult("is", 3.0, {}, True).better_than(MetricResult("is", 4.0, {}, True))


def test_fid_prints_the_number_with_its_settings_and_writes_json(env, capsys, tmp_path) -> None:
    run, cache = env
    out = tmp_path / "fid.json"
    assert main(["eval", "fid", str(run), "--samples", "200", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("classifier-feature Frechet distance: ")
    assert "FID" not in "\n".join(lines)  # never called FID without the Inception network
    assert "200 samples of" in lines[1] and "noise seed 0" in lines[1]
    assert "vs the first 500 mnist5k test images" in lines[1]
    assert "trained on 2000 mnist5k training images, test accuracy" in lines[2]
    saved = json.loads(out.read_text())
    assert saved["name"] == "fid" and saved["higher_is_better"] is False
    assert saved["value"] == pytest.approx(number(lines[0]), rel=1e-5)
    assert saved["settings"]["label"] == "classifier-feature Frechet distance"
    assert saved["settings"]["reference_cache"].startswith(str(cache))
    # the API gives the same number: score_run, and score_generator with the run's sampler
    api = score_run("fid", run, n=200)
    assert api.value == pytest.approx(saved["value"], rel=1e-9)
    from saddlepoint.train.run import load

    loaded = load(run)
    direct = score_generator("fid", lambda n: loaded.sample(n, seed=0), MNIST5K, n=200)
    assert direct.value == pytest.approx(saved["value"], rel=1e-9)


def test_every_metric_and_the_sanity_row(env, capsys) -> None:
    run, _ = env
    values = {}
    for metric, samples in (("kid", "200"), ("is", "100"), ("pr", "200"), ("classes", "200")):
        assert main(["eval", metric, str(run), "--samples", samples]) == 0
        head = capsys.readouterr().out.splitlines()[0]
        values[metric] = head
    assert values["kid"].startswith("classifier-feature kernel distance: ")
    assert "(std over 100 subsets of 200)" in values["kid"]
    assert (
        values["is"].startswith("classifier score") and "(std over 10 splits of 10)" in values["is"]
    )
    assert "precision" in values["pr"] and "recall" in values["pr"]
    assert re.search(r"\d+ of 10 classes covered", values["classes"])
    # real training images against the test split: far closer than a 10-iteration generator
    assert main(["eval", "fid", str(run), "--samples", "400"]) == 0
    generated = number(capsys.readouterr().out.splitlines()[0])
    assert main(["eval", "fid", "--real", "--data", "mnist5k", "--samples", "400"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "400 real mnist5k train images (the sanity row)" in lines[1]
    assert number(lines[0]) < generated / 5


def test_user_mistakes_are_one_line(env, capsys, tmp_path) -> None:
    run, _ = env
    cases = [
        (
            [
                "eval",
                "fid",
                str(run),
                "--extractor",
                "inception",
                "--weights",
                str(tmp_path / "no.pth"),
            ],
            "no Inception-v3 weights at",
        ),
        (["eval", "classes", str(run), "--extractor", "inception"], "--extractor classifier"),
        (["eval", "fid"], "name a run folder"),
        (["eval", "fid", str(run), "--samples", "0"], "--samples must be at least 1"),
        (["eval", "fid", str(run), "--samples", "50", "--reference", "900"], "at most 500"),
        (["eval", "kid", str(run), "--weights", "x.pth"], "drop --weights"),
        (["eval", "fid", str(run), "--data", "mnist5k"], "--data and --root are for --real"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        last = capsys.readouterr().err.splitlines()[-1]  # after any classifier-training notes
        assert last.startswith("saddlepoint: error: ") and message in last, (argv, last)
    main(["eval", "is", str(run), "--extractor", "inception", "--weights", str(tmp_path / "no")])
    err = capsys.readouterr().err  # where the file comes from, and how to pass it
    assert "pt_inception-2015-12-05-6726825d.pth" in err and "--weights PATH" in err
    assert "github.com/mseitzer/pytorch-fid/releases" in err


def test_generator_output_is_checked(env) -> None:
    with pytest.raises(SaddlepointError, match=r"lie in \[0, 1\]"):
        score_generator("fid", lambda n: torch.rand(n, 1, 28, 28) * 2 - 1, MNIST5K, n=50)
    with pytest.raises(SaddlepointError, match="returned 3 images"):
        score_generator("fid", lambda n: torch.rand(3, 1, 28, 28), MNIST5K, n=50)


def test_inception_scores_are_labelled_as_such(env, capsys, tmp_path) -> None:
    """With a (random) Inception weights file the score is called "Inception Score" and the
    printout warns that the file is not the published one. One sample per split: IS = 1."""
    from saddlepoint.evaluate.inception import FIDInceptionV3

    run, _ = env
    torch.manual_seed(0)
    weights = tmp_path / "random-inception.pth"
    torch.save(FIDInceptionV3().state_dict(), weights)
    argv = ["eval", "is", str(run), "--samples", "10", "--extractor", "inception"]
    assert main([*argv, "--weights", str(weights)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Inception Score: 1 +/- 0 (std over 10 splits of 1)")
    assert "NOT the published file" in lines[2] and "classifier" not in lines[0]


def test_defaults_fit_the_dataset_and_errors_name_the_option(env, capsys) -> None:
    """mnist5k's training split holds 4,000 images: --real without --samples scores them all,
    with a note; a count that cannot be met names the option to lower."""
    run, _ = env
    assert main(["eval", "fid", "--real", "--data", "mnist5k"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "4000 real mnist5k train images (the sanity row)" in lines[1]
    assert "note: --samples: all 4000 mnist5k train images" in lines[-1]
    for argv, message in (
        (["--real", "--data", "mnist5k", "--samples", "5000"], "--samples 5000 asks for more real"),
        ([str(run), "--samples", "50", "--reference", "900"], "--reference 900 asks for more"),
    ):
        assert main(["eval", "fid", *argv]) == 2
        assert message in capsys.readouterr().err.splitlines()[-1]


def test_every_eval_writes_into_the_run_and_the_report_names_it(env, capsys) -> None:
    from saddlepoint.report.html import write_report

    run, _ = env
    assert main(["eval", "fid", str(run), "--samples", "200"]) == 0
    assert main(["eval", "pr", str(run / "generator.safetensors"), "--samples", "200"]) == 0
    assert (
        main(["eval", "kid", str(run), "--samples", "200", "--out", str(run / "eval" / "k.json")])
        == 0
    )
    capsys.readouterr()
    fid = json.loads((run / "eval" / "fid-classifier-it10.json").read_text())
    assert fid["settings"]["label"] == "classifier-feature Frechet distance"
    assert (run / "eval" / "pr-classifier-it10.json").is_file()  # a snapshot: into its run
    html = write_report(run).read_text()
    for text in (
        "classifier-feature Frechet distance",
        "classifier-feature kernel distance",
        "classifier-feature precision/recall (k=3)",
        "dataset classifier, trained on 2000 mnist5k images",
        "200 samples at iteration 10 vs 500 mnist5k test images",
    ):
        assert text in html, text
    assert "<td>fid</td>" not in html  # never the bare registry name

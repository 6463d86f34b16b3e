"""The command line: verbs, one-line errors, dry run, train -> sample."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tiny import tiny_argv

from saddlepoint.cli import main

TINY = tiny_argv("train.iterations=6", "train.log_every=3", "train.grid_size=4")


def test_dry_run_prints_resolved_config(capsys):
    assert (
        main(
            [
                "train",
                "--preset",
                "demo",
                "--objective",
                "minimax",
                "--set",
                "train.k=2",
                "--dry-run",
            ]
        )
        == 0
    )
    config = json.loads(capsys.readouterr().out)
    assert config["preset"] == "demo" and config["objective"]["name"] == "minimax"
    assert config["train"]["k"] == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--set", "train.kk=1", "--dry-run"], "unknown setting 'train.kk'"),
        (["train", "--preset", "nope", "--dry-run"], "unknown preset 'nope'"),
        (["train", "--data", "nope", "--quiet"], "unknown dataset 'nope'"),
        (
            ["train", "--objective", "wgan-ish", "--quiet", "--set", "data.limit=200"],
            "unknown objective",
        ),
        (["train", "--resume", "/nonexistent/run"], "no checkpoint at"),
        (["sample", "/nonexistent/run"], "no run at /nonexistent/run"),
    ],
)
def test_errors_are_one_line(argv, message, capsys, tmp_path):
    assert (
        main(
            argv
            + (["--out", str(tmp_path)] if argv[0] == "train" and "--resume" not in argv else [])
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("saddlepoint: error:") and len(err.splitlines()) == 1
    assert message.split("'")[0] in err and __import__("re").search(message, err)


def test_train_then_sample(tmp_path, capsys):
    assert main(["train", "--quiet", "--out", str(tmp_path), *TINY]) == 0
    out = capsys.readouterr().out
    run = next(tmp_path.iterdir())
    assert f"run folder: {run}" in out and ".png" in out
    assert main(["sample", str(run), "-n", "9", "--seed", "2"]) == 0
    png = capsys.readouterr().out.strip()
    assert png.endswith("sample-seed2.png")
    from PIL import Image

    img = Image.open(png)
    assert img.size[0] > 3 * 28 and img.size[1] > 3 * 28
    assert main(["sample", str(run), "-n", "0"]) == 2
    assert main(["train", "--quiet", "--resume", str(run), "--set", "train.iterations=8"]) == 0
    assert main(["train", "--resume", str(run), "--preset", "demo"]) == 2


def test_listing_verbs(capsys):
    for verb, expected in (
        ("presets", "goodfellow2014-mnist"),
        ("datasets", "mnist5k"),
        ("objectives", "non_saturating"),
    ):
        assert main([verb]) == 0
        assert expected in capsys.readouterr().out


def test_console_entry_point_and_module():
    r = subprocess.run(
        [sys.executable, "-m", "saddlepoint", "--help"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and "train" in r.stdout and "sample" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "saddlepoint", "train", "--set", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "key=value" in r.stderr


def test_figures_and_parzen_eval_of_a_run(tmp_path, capsys):
    assert (
        main(["train", "--quiet", "--out", str(tmp_path), *TINY, "--set", "train.snapshot_every=3"])
        == 0
    )
    capsys.readouterr()
    run = next(tmp_path.iterdir())
    assert main(["sample", str(run), "--neighbours", "--seed", "1"]) == 0
    assert capsys.readouterr().out.strip().endswith("neighbours-seed1.png")
    assert main(["interpolate", str(run), "--rows", "3", "--steps", "4"]) == 0
    assert capsys.readouterr().out.strip().endswith("interpolation-seed0.png")
    assert main(["interpolate", str(run), "--steps", "1"]) == 2
    assert (
        main(["eval", "parzen", str(run), "--samples", "300", "--valid", "100", "--test", "200"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Parzen log-likelihood of 200 mnist5k test images" in out
    result = json.loads((run / "eval" / "parzen-it6.json").read_text())
    assert result["n_test"] == 200 and result["n_samples"] == 300 and result["n_valid"] == 100
    assert result["sigma"] in result["sigmas"]
    assert (run / "eval" / "parzen-it6-sigma.png").is_file()
    assert (
        main(
            [
                "eval",
                "parzen",
                str(run),
                "--real",
                "--samples",
                "150",
                "--valid",
                "100",
                "--test",
                "200",
                "--sigmas",
                "0.2,0.3",
            ]
        )
        == 0
    )
    real = json.loads((run / "eval" / "parzen-real.json").read_text())
    assert real["sigmas"] == [0.2, 0.3]
    assert real["test_mean"] > result["test_mean"]  # real digits beat a 6-iteration generator
    assert (
        main(
            [
                "eval",
                "parzen",
                str(run),
                "--snapshots",
                "--samples",
                "200",
                "--valid",
                "50",
                "--test",
                "50",
            ]
        )
        == 0
    )
    curve = json.loads((run / "eval" / "parzen-curve.json").read_text())
    assert [c["iteration"] for c in curve] == [3, 6]
    assert all(c["seconds"] is not None for c in curve)
    capsys.readouterr()
    assert main(["eval", "parzen", str(run), "--valid", "100000"]) == 2
    assert "exceeds the 500 validation images" in capsys.readouterr().err
    assert main(["eval", "parzen", str(run), "--sigmas", "a,b"]) == 2


def test_parzen_of_real_images_without_a_run(tmp_path, capsys):
    assert (
        main(
            [
                "eval",
                "parzen",
                "--real",
                "--data",
                "digits",
                "--samples",
                "1000",
                "--valid",
                "100",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "Parzen log-likelihood of 200 digits test images" in capsys.readouterr().out
    result = json.loads((tmp_path / "parzen-real-digits.json").read_text())
    assert result["n_samples"] == 1000 and result["dim"] == 64
    assert main(["eval", "parzen"]) == 2
    assert "--real --data NAME" in capsys.readouterr().err

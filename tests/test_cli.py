"""The command line: verbs, one-line errors, dry run, train -> sample."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tiny import TINY_SETS, tiny_argv

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


def test_parzen_defaults_fit_the_dataset(tmp_path, capsys):
    """mnist5k holds 500 validation images: the default --valid takes them all, with a note;
    --real takes all 1,397 training images of digits when 10,000 are more than there are."""
    assert main(["train", "--quiet", "--out", str(tmp_path), *TINY]) == 0
    run = next(tmp_path.iterdir())
    capsys.readouterr()
    assert main(["eval", "parzen", str(run), "--samples", "300", "--test", "50"]) == 0
    out = capsys.readouterr().out
    assert "sigma" in out and "chosen on 500 validation images" in out
    assert "note: --valid: all 500 validation images of mnist5k" in out
    assert json.loads((run / "eval" / "parzen-it6.json").read_text())["n_valid"] == 500
    argv = ["eval", "parzen", "--real", "--data", "digits", "--valid", "50", "--test", "50"]
    assert main([*argv, "--out", str(tmp_path / "real")]) == 0
    out = capsys.readouterr().out
    assert "1397 real training images" in out and "note: --samples: all 1397" in out
    assert main([*argv, "--samples", "2000"]) == 2
    assert "--samples 2000 exceeds the 1397 training images of digits" in capsys.readouterr().err


def test_version_config_file_and_checkpoint_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == "saddlepoint 0.1.0"
    assert main(["train", "--quiet", "--out", str(tmp_path / "a"), *TINY]) == 0
    run = next((tmp_path / "a").iterdir())
    capsys.readouterr()
    # train from a saved config: the same settings, with --set on top
    argv = ["train", "--quiet", "--config", str(run / "config.json"), "--out", str(tmp_path / "b")]
    assert main([*argv, "--set", "train.iterations=4"]) == 0
    again = next((tmp_path / "b").iterdir())
    first, second = (json.loads((r / "config.json").read_text()) for r in (run, again))
    assert second["train"].pop("iterations") == 4 and first["train"].pop("iterations") == 6
    assert first == second and again.name == run.name
    assert main(["train", "--config", str(run / "config.json"), "--preset", "demo"]) == 2
    assert "use one of --config, --preset and --resume" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{nope")
    assert main(["train", "--config", str(tmp_path / "bad.json")]) == 2
    assert "not a readable JSON config" in capsys.readouterr().err
    # a training checkpoint is not a snapshot: say which file to pass
    for verb in ("sample", "interpolate"):
        assert main([verb, str(run / "checkpoint.pt")]) == 2
        err = capsys.readouterr().err
        assert "is a training checkpoint" in err
        assert f"pass the run folder ({run}) or a .safetensors snapshot" in err
    assert main(["eval", "fid", str(run / "checkpoint.pt")]) == 2
    assert "pass the run folder" in capsys.readouterr().err


def test_sample_neighbours_follows_n(tmp_path, capsys):
    from PIL import Image

    assert main(["train", "--quiet", "--out", str(tmp_path), *TINY]) == 0
    run = next(tmp_path.iterdir())
    capsys.readouterr()
    heights = {}
    for n in ("6", "13"):  # rows of 6: one row; three rows (the last holds one sample)
        assert main(["sample", str(run), "--neighbours", "-n", n]) == 0
        heights[n] = Image.open(capsys.readouterr().out.strip()).size[1]
    assert heights == {"6": 2 * (30 + 2), "13": 2 * (3 * 30 + 2)}


def write_pngs(folder, n: int, size: int = 12) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    rng = __import__("numpy").random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, (size, size), dtype="uint8")
        Image.fromarray(pixels, "L").save(folder / f"img-{i:03d}.png")


def test_a_small_folder_trains_with_the_default_preset(tmp_path, capsys, monkeypatch):
    """100 images: an 80-image training split, so the default batch of 100 becomes 80 with a
    note; the run is named after the folder; its config stores the absolute path, so a resume
    from another directory finds the images."""
    write_pngs(tmp_path / "work" / "my faces", 100)
    monkeypatch.chdir(tmp_path / "work")
    unbatched = [s for s in TINY_SETS if not s.startswith("train.batch_size=")]
    sets = [a for s in (*unbatched, "train.iterations=2") for a in ("--set", s)]
    assert main(["train", "--quiet", "--data", "folder:my faces", "--out", "runs", *sets]) == 0
    err = capsys.readouterr().err
    assert "holds 80 images" in err and "training with train.batch_size=80" in err
    (run,) = (tmp_path / "work" / "runs").iterdir()
    assert run.name == "00001-demo-my-faces-non_saturating"  # the default preset, demo
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["name"] == f"folder:{tmp_path / 'work' / 'my faces'}"
    assert config["train"]["batch_size"] == 80
    monkeypatch.chdir(tmp_path)  # elsewhere: the stored path still holds
    assert main(["train", "--quiet", "--resume", str(run), "--set", "train.iterations=3"]) == 0
    # a batch set on the command line is the user's choice: refused, not adapted
    argv = ["train", "--quiet", "--data", f"folder:{tmp_path / 'work' / 'my faces'}"]
    assert main([*argv, "--out", str(tmp_path / "r"), *sets, "--set", "train.batch_size=90"]) == 2
    assert "fewer than train.batch_size=90" in capsys.readouterr().err


def test_runs_are_named_after_their_data():
    from saddlepoint.config import override
    from saddlepoint.presets import preset
    from saddlepoint.train.run import run_name

    def name(p: str, data: str) -> str:
        return run_name(override(preset(p), [f"data.name={data}"]))

    assert name("dcgan-mnist", "folder:~/data/faces/") == "dcgan-faces-non_saturating"
    assert name("dcgan-mnist", "mnist") == "dcgan-mnist-mnist-non_saturating"
    assert name("demo", "mnist5k") == "demo-mnist5k-non_saturating"
    assert name("dcgan-fashion", "mnist") == "dcgan-mnist-non_saturating"
    assert name("goodfellow2014-mnist-fast", "fashion-mnist") == (
        "goodfellow2014-fast-fashion-mnist-non_saturating"
    )

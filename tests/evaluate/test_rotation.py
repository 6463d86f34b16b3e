"""Scores for unlabelled images: the self-supervised rotation network trained on the data's own
images, on a folder of synthetic faces written here. It ranks held-out real faces above a
trained generator above an untrained one; `eval fid --input1 DIR --input2 DIR` scores two
folders without a run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tiny import tiny_argv

from saddlepoint.cli import main
from saddlepoint.evaluate import rotation
from saddlepoint.evaluate.rotation import RotationRecipe, rotate
from saddlepoint.report.html import write_report

QUICK = RotationRecipe(min_steps=100, max_steps=100, batch_size=64)  # about a second


def face(rng: np.random.Generator, size: int = 16) -> np.ndarray:
    """A grey face: a bright oval on a dark ground, two dark eyes above a mouth, jittered."""
    yy, xx = np.mgrid[:size, :size]
    cx, cy = size / 2 - 0.5 + rng.uniform(-1.5, 1.5), size / 2 - 0.5 + rng.uniform(-1, 1)
    rx, ry = rng.uniform(4.5, 6), rng.uniform(5.5, 7)
    img = np.full((size, size), rng.uniform(0.05, 0.3))
    img[((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1] = rng.uniform(0.6, 0.9)
    ey, my, mx = round(cy - 2), round(cy + 3), round(cx)
    for ex in (round(cx - 2), round(cx + 2)):
        img[ey, ex - 1 : ex + 1] = 0.1
    img[my, mx - 2 : mx + 2] = 0.2
    img += rng.normal(0, 0.03, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def write_faces(folder: Path, n: int, seed: int) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(face(rng), "L").save(folder / f"face-{i:03d}.png")
    return folder


def number(line: str) -> float:
    return float(re.search(r": (-?[0-9.e+-]+)", line).group(1))


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """300 faces (240 train / 30 valid / 30 test), a generator trained 800 iterations on them
    and an untrained one (0 iterations)."""
    root = tmp_path_factory.mktemp("faces")
    folder = write_faces(root / "faces", 300, seed=0)
    runs = []
    for iterations in (800, 0):
        argv = ["train", "--quiet", "--out", str(root / f"runs{iterations}"), "--data"]
        sets = tiny_argv(f"train.iterations={iterations}", "train.log_every=100")
        assert main([*argv, f"folder:{folder}", *sets]) == 0
        runs.append(next((root / f"runs{iterations}").iterdir()))
    return root, folder, runs


@pytest.fixture
def env(faces, monkeypatch):
    root, folder, runs = faces
    torch.set_num_threads(1)
    monkeypatch.setenv("SADDLEPOINT_CACHE", str(root / "cache"))
    monkeypatch.setattr(rotation, "DEFAULT_RECIPE", QUICK)
    return root, folder, runs


def test_rotate_turns_each_image_by_its_own_quarter_turns() -> None:
    x = torch.arange(2 * 9, dtype=torch.float32).view(2, 1, 3, 3)
    turned = rotate(x, torch.tensor([1, 2]))
    assert torch.equal(turned[0], torch.rot90(x[0], 1, dims=(1, 2)))
    assert torch.equal(turned[1], x[1].flip(1).flip(2))
    assert [QUICK.steps(n) for n in (10, 10_000)] == [100, 100]
    assert [RotationRecipe().steps(n) for n in (80, 5_000, 100_000)] == [300, 469, 2000]


def test_held_out_faces_beat_a_trained_generator_beat_an_untrained_one(env, capsys) -> None:
    root, folder, (trained, untrained) = env
    assert main(["eval", "fid", str(trained), "--real", "--real-split", "valid"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].startswith("rotation-feature Frechet distance: ")
    assert "30 real" in lines[1] and "valid images" in lines[1] and "vs the first 30" in lines[1]
    assert "rotation network (self-supervised)" in lines[2] and "trained on 240" in lines[2]
    assert "rotation network of folder:" in out.err and "step 100/100 (100%)" in out.err
    real = number(lines[0])
    scores = {}
    for name, run in (("trained", trained), ("untrained", untrained)):
        assert main(["eval", "fid", str(run), "--samples", "30"]) == 0
        scores[name] = number(capsys.readouterr().out.splitlines()[0])
    assert real < 0.5 * scores["trained"] and scores["trained"] < 0.8 * scores["untrained"], (
        real,
        scores,
    )
    # every eval writes its result into the run, and the report names it truly
    saved = json.loads((trained / "eval" / "fid-rotation-real-valid.json").read_text())
    assert saved["settings"]["label"] == "rotation-feature Frechet distance"
    assert (trained / "eval" / "fid-rotation-it800.json").is_file()
    html = write_report(trained).read_text()
    assert "rotation-feature Frechet distance" in html and "self-supervised" in html
    # no class logits: the Inception Score and class coverage are refused in one sentence
    for metric in ("is", "classes"):
        assert main(["eval", metric, str(trained), "--samples", "30"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("saddlepoint: error:") and "--extractor" in err


def test_two_folders_without_a_run(env, capsys, tmp_path) -> None:
    root, folder, _ = env
    other = write_faces(tmp_path / "more-faces", 60, seed=1)
    blobs = tmp_path / "noise"
    blobs.mkdir()
    rng = np.random.default_rng(2)
    for i in range(60):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8), "L").save(
            blobs / f"{i}.png"
        )
    assert main(["eval", "fid", "--input1", str(other), "--input2", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"the 60 images of {other} vs the 300 images of {folder}" in lines[1]
    assert "trained on 300" in lines[2]  # the rotation network of the reference folder
    same = number(lines[0])
    out = tmp_path / "noise.json"
    argv = ["eval", "fid", "--input1", str(blobs), "--input2", str(folder), "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    assert same < 0.2 * json.loads(out.read_text())["value"]
    assert main(["eval", "kid", "--input1", str(other), "--input2", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("rotation-feature kernel distance: ")
    for argv, message in (
        (["--input2", str(folder)], "give both"),
        (["--input1", str(other)], "give the reference folder as --input2"),
        (["--input1", str(other), "--input2", str(folder), "--real"], "without a run"),
        (["--input1", str(other), "--input2", str(folder), "--samples", "61"], "at most"),
    ):
        assert main(["eval", "fid", *argv]) == 2, argv
        assert message in capsys.readouterr().err, argv

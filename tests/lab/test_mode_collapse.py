"""Lab mode-collapse: frames of a toy run, each scored by mode coverage, checked independently.

Training long enough to see collapse takes minutes (benchmarks/objectives_toy.py records it);
here a short run checks the lab's bookkeeping: each frame's numbers are recomputed from the
snapshot files it came from with a brute-force count, the data's own score matches the
chi-squared share, and the images seen follow from iterations, k and the batch size.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import chi2

from saddlepoint.cli import main
from saddlepoint.data import toy
from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import mode_collapse as mc
from saddlepoint.train.run import load

ITERATIONS, K, FRAMES = 30, 2, 3


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    threads = torch.get_num_threads()
    try:
        out = tmp_path_factory.mktemp("mode-collapse")
        return out, mc.run(out, data="ring8", k=K, iterations=ITERATIONS, frames=FRAMES, seed=3)
    finally:
        torch.set_num_threads(threads)


def _brute_force(points: np.ndarray, data: str) -> tuple[int, float]:
    """Modes covered and high-quality share, counted point by point (float64)."""
    centres, std = (np.asarray(v, dtype=np.float64) for v in toy.modes(data))
    counts = np.zeros(len(centres), dtype=int)
    good = 0
    for p in points:
        distances = [math.dist(p, c) for c in centres]
        if min(distances) <= 3 * std:
            good += 1
            counts[int(np.argmin(distances))] += 1
    need = math.ceil(len(points) / (5 * len(centres)))
    return int((counts >= need).sum()), good / len(points)


def test_frames_follow_the_schedule_and_count_images(lab):
    _, numbers = lab
    frames = numbers["frames"]
    assert [f["iteration"] for f in frames] == [0, 10, 20, 30]
    batch = numbers["config"]["train"]["batch_size"]
    assert [f["images_seen"] for f in frames] == [i * K * batch for i in (0, 10, 20, 30)]
    assert numbers["final"] == frames[-1]
    assert numbers["config"]["train"]["k"] == K and numbers["config"]["data"]["name"] == "ring8"


def test_each_frame_is_its_snapshot_scored_independently(lab):
    _, numbers = lab
    # the lab sampled each snapshot on one thread (its train.threads=1); so does this, for the
    # same float32 points: another thread count may round G's products otherwise, and a point
    # 3.5e-5 from the 3-sigma edge (the nearest, here) could then change sides
    torch.set_num_threads(1)  # the conftest fixture restores the count afterwards
    run_dir = Path(numbers["run_dir"])
    snapshots = {load(p).iteration: p for p in run_dir.glob("snapshots/*.safetensors")}
    assert sorted(snapshots) == [10, 20, 30]
    for frame in numbers["frames"][1:]:
        run = load(snapshots[frame["iteration"]])
        points = run.sample(mc.SAMPLES, seed=mc.SAMPLE_SEED).double().numpy()
        modes, share = _brute_force(points, "ring8")
        assert frame["modes_covered"] == modes
        assert frame["high_quality_share"] == pytest.approx(share, abs=1e-12)
        assert sum(frame["counts"]) == round(share * mc.SAMPLES)
    assert (run_dir / "config.json").is_file()


def test_the_data_scores_as_the_chi_squared_law_says(lab):
    ref = lab[1]["data_reference"]
    expected = chi2.cdf(9.0, df=2)  # 1 - exp(-9/2) = 0.98889
    assert ref["modes_covered"] == 8
    assert abs(ref["high_quality_share"] - expected) < 5 * math.sqrt(
        expected * (1 - expected) / 2500
    )


def test_files_numbers_figures_and_gif(lab):
    out, numbers = lab
    assert json.loads((out / "mode-collapse.json").read_text()) == json.loads(json.dumps(numbers))
    for name in ("mode-collapse-frames.png", "mode-collapse-coverage.png"):
        assert (out / name).stat().st_size > 5_000
    with Image.open(out / "mode-collapse.gif") as gif:
        assert gif.n_frames == FRAMES + 1
    assert any("modes" in line for line in mc.summary(numbers))


def test_objective_settings_are_applied():
    config = mc.toy_config("grid25", "wasserstein", k=3, iterations=7, seed=2)
    assert config.objective.penalty == "gradient"  # WGAN-GP: a Lipschitz constraint
    assert (config.train.k, config.train.iterations, config.train.seed) == (3, 7, 2)
    assert config.data.name == "grid25" and config.model.d_keep_hidden == 1.0


def test_bad_options_are_one_sentence_errors(tmp_path):
    with pytest.raises(SaddlepointError, match="ring8 or grid25"):
        mc.run(tmp_path, data="gaussian1d")
    with pytest.raises(SaddlepointError, match="unknown objective 'hinj'"):
        mc.run(tmp_path, objective="hinj")
    with pytest.raises(SaddlepointError, match="frames"):
        mc.run(tmp_path, iterations=2, frames=5)


def test_cli_passes_the_options(tmp_path, capsys):
    out = tmp_path / "lab"
    argv = ["lab", "mode-collapse", "--data", "grid25", "--objective", "hinge"]
    argv += ["--iterations", "4", "--frames", "2", "--seed", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "hinge on grid25" in printed and f"wrote {out / 'mode-collapse.json'}" in printed
    numbers = json.loads((out / "mode-collapse.json").read_text())
    assert (numbers["data"], numbers["objective"], numbers["seed"]) == ("grid25", "hinge", 1)
    assert [f["iteration"] for f in numbers["frames"]] == [0, 2, 4]
    assert main(["lab", "mode-collapse", "--k", "0", "--out", str(out)]) == 2
    assert "k must be at least 1" in capsys.readouterr().err

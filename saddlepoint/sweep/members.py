"""An ensemble's members as run folders of their own, so a sweep scores each as its separate run.

An ensemble of a sweep (sweep/ensembles.py) trains seeds s..s+N-1 in one run folder. The worker
then writes member i into the folder of the cell of seed s + i:

    <out>/<cell key>/member<i>-<the ensemble's run folder name>/
        config.json             the ensemble's config with train.seed = s + i, train.ensemble = 1
        generator.safetensors   member i's sampling generator (its EMA copy if the run keeps one),
                                as `saddlepoint sample RUN --member i` loads it

which is what the sweep's metrics read of a run folder (sweep/metrics.py, FINAL_GENERATOR): the
config and the snapshot of the run of seed s + i, whose weights member i equals up to float32
rounding. The ensemble's checkpoint, grids, log and kept snapshots stay in its own folder (the
grids and snapshots are member 0's, the log the members' mean).
"""

from __future__ import annotations

from pathlib import Path

from saddlepoint.checkpoint import load_snapshot, save_snapshot
from saddlepoint.config import override
from saddlepoint.errors import writing
from saddlepoint.runs import CONFIG, SNAPSHOT, load_member


def export_member(run_dir: Path, member: int, cell_dir: Path) -> Path:
    """Write member `member` of the ensemble run folder `run_dir` as a run folder in `cell_dir`
    (module docstring); its path."""
    run = load_member(run_dir, member)
    _, meta = load_snapshot(run_dir / SNAPSHOT)  # the shape, output and conditions every member has
    info = {k: v for k, v in meta.items() if k not in ("config", "iteration")}
    seed = run.config.train.seed + member
    config = override(run.config, [f"train.seed={seed}", "train.ensemble=1"])
    folder = cell_dir / f"member{member}-{run_dir.name}"
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    text = config.to_json()
    save_snapshot(folder / SNAPSHOT, run.generator, text, iteration=run.iteration, **info)
    with writing(folder / CONFIG):
        (folder / CONFIG).write_text(text)
    return folder

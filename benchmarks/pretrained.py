"""Make the pretrained generators that ship in saddlepoint/pretrained/, and measure them.

    .venv/bin/python benchmarks/preset_seeds.py --preset demo --seeds 0 --threads 1 \
        --keep /tmp/keep                     # trains the run and keeps its final generator
    .venv/bin/python benchmarks/pretrained.py --name demo-mnist5k --preset demo --seed 0 \
        --snapshot /tmp/keep/demo/0x1.safetensors [--tag demo]

Exports the kept generator in float16 (`saddlepoint.pretrained.export`), loads it back as a
user would (`saddlepoint.load_pretrained`), and scores the loaded one with
`saddlepoint.evaluate.health` (2,000 samples: classes covered, the classifier-feature distance,
diversity, class or code accuracy), so the scores in NAME.json are those of the file shipped,
not of the float32 weights. The record also names the command that trains the run, the preset,
seed and iterations, and points at the preset's multi-seed table (benchmarks/results/presets/
TAG.md) of which this seed is one row.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", required=True, help="the pretrained generator's name")
    p.add_argument("--preset", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--snapshot", required=True, help="a generator snapshot kept by preset_seeds")
    p.add_argument("--tag", help="the preset_seeds table this run is a row of (default: preset)")
    p.add_argument("--where", help="the folder to write to (default: saddlepoint/pretrained/)")
    return p.parse_args(argv)


def _scores(run, data) -> dict:
    from saddlepoint.evaluate.health import generator_health

    health = generator_health(run.generator, data).to_dict()
    keep = ("covered", "classes", "distance", "diversity", "samples")
    extra = ("conditional_accuracy", "code_accuracy", "code_classes")
    scores = {k: health[k] for k in keep}
    scores.update({k: health[k] for k in extra if health[k] is not None})
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}


def main(argv: list[str] | None = None) -> int:
    import saddlepoint as sp
    from saddlepoint.presets import PRESETS
    from saddlepoint.pretrained import export

    args = _arguments(argv)
    snapshot = sp.load(args.snapshot)
    description = PRESETS.get(args.preset).description
    record = {
        "description": f"the `{args.preset}` preset, seed {args.seed}: {description}",
        "preset": args.preset,
        "command": f"saddlepoint train --preset {args.preset} --set train.seed={args.seed}",
        "seed": args.seed,
        "iterations": snapshot.iteration,
        "scores": {},
        "table": f"benchmarks/results/presets/{args.tag or args.preset}.md",
    }
    path = export(args.snapshot, args.name, record, where=args.where)
    shipped = sp.load_pretrained(args.name, where=args.where)  # (its data.root is dropped)
    record["scores"] = _scores(shipped, snapshot.config.data)
    export(args.snapshot, args.name, record, where=args.where)  # the same weights, now scored
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB): {record['scores']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

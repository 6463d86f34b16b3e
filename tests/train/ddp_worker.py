"""Run by torchrun in tests/train/test_distributed.py: train, then save this rank's weights.

torchrun --standalone --nproc_per_node=2 tests/train/ddp_worker.py OUT [--resume RUN] SET...
"""

from __future__ import annotations

import os
import sys

import torch

from saddlepoint.config import Config, override
from saddlepoint.train.loop import train


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    resume = None
    if args[:1] == ["--resume"]:
        resume, args = args[1], args[2:]
    config = override(Config(preset="ddp"), args)
    run = train(config, out=out, resume=resume, progress=False)
    rank = int(os.environ.get("RANK", 0))
    weights = {f"G.{k}": v for k, v in run.generator.state_dict().items()}
    torch.save({"weights": weights, "path": str(run.path)}, os.path.join(out, f"rank{rank}.pt"))


if __name__ == "__main__":
    main()

"""torch.cuda's random-generator API faked on a machine without a GPU, so that the logic that
keeps each ensemble member's CUDA stream (swapping, saving, restoring) runs in CPU tests."""

from __future__ import annotations

import torch


class FakeCudaRng:
    """torch.cuda's rng API without a GPU: a CPU torch.Generator plays each CUDA device's
    default generator, so that the streams' swapping can be checked here."""

    OFFSET = 10_000  # seed s seeds the fakes with s + OFFSET: other numbers than the CPU's

    def __init__(self) -> None:
        self.generators: dict[int, torch.Generator] = {}
        self.seed: int | None = None  # the last torch.manual_seed's, as torch seeds every GPU

    def generator(self, device="cuda") -> torch.Generator:
        index = torch.device(device).index or 0
        if index not in self.generators:
            seed = 1000 + index if self.seed is None else self.seed + self.OFFSET
            self.generators[index] = torch.Generator().manual_seed(seed)
        return self.generators[index]

    def manual_seed(self, seed: int) -> None:
        self.seed = seed
        for g in self.generators.values():
            g.manual_seed(seed + self.OFFSET)

    def get_rng_state(self, device="cuda") -> torch.Tensor:
        return self.generator(device).get_state()

    def set_rng_state(self, state: torch.Tensor, device="cuda") -> None:
        self.generator(device).set_state(state)

    def rand(self, n: int, device="cuda") -> torch.Tensor:
        """What dropout on `device` would draw: from that device's default generator."""
        return torch.rand(n, generator=self.generator(device))

    def install(self, monkeypatch) -> FakeCudaRng:
        """torch.cuda.get_rng_state / set_rng_state on the fakes, and torch.manual_seed
        seeding them too (as it seeds every GPU)."""
        monkeypatch.setattr(torch.cuda, "get_rng_state", self.get_rng_state)
        monkeypatch.setattr(torch.cuda, "set_rng_state", self.set_rng_state)
        seed_cpu = torch.manual_seed

        def manual_seed(seed: int) -> torch.Generator:
            self.manual_seed(seed)
            return seed_cpu(seed)

        monkeypatch.setattr(torch, "manual_seed", manual_seed)
        return self

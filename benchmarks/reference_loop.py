"""A plain GAN training loop in the style of popular tutorials: the yardstick for throughput.py.

Same networks as saddlepoint's 2014 MLP GAN (built with saddlepoint.nets, so the modules are
identical), same optimiser (SGD, momentum 0.5, lr 0.1), same batch size and thread count, but
written the way tutorials write it:

  - a torch.utils.data.DataLoader over a uint8 TensorDataset (shuffle=True, num_workers=0),
    converted with `.float() / 255` batch by batch;
  - nn.BCEWithLogitsLoss against ones / zeros label tensors;
  - D(real) and D(fake) as two forward passes;
  - the G step draws new noise and runs G a second time (fakes are not reused);
  - D's weights stay trainable in the G step, so their gradients are computed (and later zeroed);
  - optimizer.zero_grad() with its defaults, and loss.item() every iteration for printing.

Not library code: benchmarks/throughput.py times it side by side with `saddlepoint.train`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from saddlepoint.config import ModelConfig
from saddlepoint.nets import build_discriminator, build_generator


@dataclass
class ReferenceTiming:
    images_per_s: list[float]  # one rate per timed chunk of `chunk` iterations (warm-up excluded)
    warmup_images_per_s: float  # the first chunk, discarded
    chunk: int  # iterations per chunk
    batch_size: int
    d_loss: float  # last losses, to show that it trained
    g_loss: float

    @property
    def mean_images_per_s(self) -> float:
        """Images over time across the timed chunks (a harmonic mean of the chunk rates)."""
        return len(self.images_per_s) / sum(1 / r for r in self.images_per_s)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_reference(
    images: torch.Tensor,  # (N, C, H, W) uint8 training images
    *,
    batch_size: int = 100,
    chunk: int = 50,  # iterations per timed chunk
    chunks: int = 4,  # timed chunks after one warm-up chunk
    device: str = "cpu",
    seed: int = 0,
    verbose: bool = False,
) -> ReferenceTiming:
    """Train the 2014 MLP GAN the tutorial way for (1 + chunks) * chunk iterations; time chunks."""
    dev = torch.device(device)
    torch.manual_seed(seed)
    shape = tuple(images.shape[1:])
    model = ModelConfig()  # the 2014 networks: G 100-1200-1200-784, D maxout 240x5 x2 -> 1
    mean = images[:1000].float().mean(0) / 255
    G = build_generator(model, shape, mean, "sigmoid").to(dev)
    D = build_discriminator(model, shape).to(dev)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1, momentum=0.5)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1, momentum=0.5)
    criterion = nn.BCEWithLogitsLoss()
    loader = DataLoader(
        TensorDataset(images), batch_size=batch_size, shuffle=True, num_workers=0, drop_last=True
    )

    total = (1 + chunks) * chunk
    rates: list[float] = []
    it = 0
    d_loss = g_loss = torch.zeros(())
    _sync(dev)
    start = time.perf_counter()
    while it < total:
        for (batch,) in loader:
            real = batch.to(dev).float() / 255  # (m, C, H, W) in [0, 1]
            m = real.size(0)
            ones = torch.ones(m, device=dev)
            zeros = torch.zeros(m, device=dev)

            # ---- discriminator: real labelled 1, fake labelled 0
            opt_d.zero_grad()
            fake = G(G.sample_z(m))
            d_loss = criterion(D(real), ones) + criterion(D(fake.detach()), zeros)
            d_loss.backward()
            opt_d.step()

            # ---- generator: new noise, a second G forward, D's weights not frozen
            opt_g.zero_grad()
            fake = G(G.sample_z(m))
            g_loss = criterion(D(fake), ones)
            g_loss.backward()
            opt_g.step()

            d_value, g_value = d_loss.item(), g_loss.item()  # what a tutorial prints
            it += 1
            if verbose and it % 100 == 0:
                print(f"[{it}/{total}] d_loss {d_value:.4f} g_loss {g_value:.4f}")
            if it % chunk == 0:
                _sync(dev)
                now = time.perf_counter()
                rates.append(chunk * m / (now - start))
                start = now
            if it >= total:
                break
    return ReferenceTiming(rates[1:], rates[0], chunk, batch_size, d_loss.item(), g_loss.item())

"""Auto-encoder discriminators: D's score for an example is its reconstruction error, an energy.

Energy-based GAN (Zhao, Mathieu and LeCun 2017, "Energy-based generative adversarial network",
ICLR, arXiv:1609.03126, section 2.3) and BEGAN (Berthelot, Schumm and Metz 2017, "BEGAN:
boundary equilibrium generative adversarial networks", arXiv:1703.10717, section 3.1) give D
an auto-encoder and score each example by how badly it is reconstructed:

    D(x) = E(x) = (1 / N) sum_i |x_i - Dec(Enc(x))_i|^eta      (N = features of one example)

    eta = 2, "squared": the mean squared error (EBGAN's ||Dec(Enc(x)) - x||, squared)
    eta = 1, "l1":      the mean absolute error (BEGAN's L(v) = |v - D(v)|^eta with eta = 1)

Low energy means "looks like data"; the objectives (`objectives.ebgan`, `objectives.began`)
read these scores the other way round from a classifier's logits. Averaging over features
rather than summing keeps the energy's scale independent of the image size: an untrained
auto-encoder (output about 0) has the data's mean square, about 0.1 on MNIST in [0, 1].

`forward(x, y=None) -> (B,)` energies; `heads(x, y=None)` adds "embedding", the code Enc(x)
(B, code) that EBGAN's pulling-away term reads, and "reconstruction" (B, *shape).
The decoder's output is linear, so data in [0, 1], [-1, 1] or R^D can all be reconstructed.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from saddlepoint.errors import SaddlepointError

ENERGIES = ("squared", "l1")  # eta = 2 (EBGAN) and eta = 1 (BEGAN)


class AutoencoderDiscriminator(nn.Module):
    """E(x) = mean_i |x_i - Dec(Enc(x))_i|^eta; subclasses define `encode` and `decode`."""

    def __init__(self, shape: tuple[int, ...], energy: str = "squared") -> None:
        super().__init__()
        if energy not in ENERGIES:
            raise SaddlepointError(
                f"unknown auto-encoder energy {energy!r}: set model.d_energy to squared or l1."
            )
        self.shape = tuple(shape)  # one example's shape
        self.energy = energy

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B, *shape) -> (B, code)
        raise NotImplementedError

    def decode(self, code: torch.Tensor) -> torch.Tensor:  # (B, code) -> (B, *shape)
        raise NotImplementedError

    def _energy(self, x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
        error = (reconstruction - x).flatten(1)  # (B, N)
        if self.energy == "squared":
            return error.square().mean(dim=1)  # (B,)
        return error.abs().mean(dim=1)  # (B,)

    def heads(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        code = self.encode(x)  # (B, code)
        reconstruction = self.decode(code)  # (B, *shape)
        return {
            "logits": self._energy(x, reconstruction),  # (B,) energies, lower = more real
            "embedding": code,
            "reconstruction": reconstruction,
        }

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.heads(x, y)["logits"]  # (B,)


class MLPAutoencoder(AutoencoderDiscriminator):
    """Fully connected: x (flattened) -> ELU layers `hidden` -> code -> ELU layers reversed -> x.

    Works on images (C, H, W) and points (D,) alike. ELU (as BEGAN uses) rather than ReLU, so no
    unit of a narrow layer can die and stop passing gradient to G.
    """

    def __init__(
        self,
        shape: tuple[int, ...],  # one example's shape
        hidden: tuple[int, ...] = (240, 240),  # encoder widths; the decoder mirrors them
        code: int = 64,  # size of the code Enc(x)
        energy: str = "squared",  # "squared" (eta = 2) or "l1" (eta = 1)
    ) -> None:
        super().__init__(shape, energy)
        n = math.prod(self.shape)
        widths = (n, *hidden)
        enc: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            enc += [nn.Linear(a, b), nn.ELU()]
        self.encoder = nn.Sequential(*enc, nn.Linear(widths[-1], code))
        back = (code, *reversed(hidden))
        dec: list[nn.Module] = []
        for a, b in zip(back[:-1], back[1:]):
            dec += [nn.Linear(a, b), nn.ELU()]
        self.decoder = nn.Sequential(*dec, nn.Linear(back[-1], n))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.reshape(x.shape[0], -1))  # (B, code)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(code).view(-1, *self.shape)  # (B, *shape)


def halvings(height: int, width: int, smallest: int = 8) -> int:
    """How many stride-2 steps take (H, W) down towards `smallest` while both stay even.

    28 -> 14 -> 7: 2;  32 -> 16 -> 8: 2;  64 -> 32 -> 16 -> 8: 3;  8: 0.
    """
    steps = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) > smallest:
        height, width, steps = height // 2, width // 2, steps + 1
    return steps


def began_decoder(n: int, channels: int, steps: int) -> nn.Sequential:
    """BEGAN's decoder after its projection (Berthelot et al. 2017, Figure 1), shared by the
    auto-encoder D and BEGAN's G: (B, n, h0, w0) -> (B, channels, h0 2^steps, w0 2^steps).

    Per doubling: 3x3 conv (n -> n), ELU, nearest 2x upsampling; then 3x3 conv (n -> n), ELU,
    and a 3x3 conv n -> channels with a linear output.
    """
    layers: list[nn.Module] = []
    for _ in range(steps):
        layers += [nn.Conv2d(n, n, 3, padding=1), nn.ELU(), nn.Upsample(scale_factor=2.0)]
    layers += [nn.Conv2d(n, n, 3, padding=1), nn.ELU(), nn.Conv2d(n, channels, 3, padding=1)]
    return nn.Sequential(*layers)


class ConvAutoencoder(AutoencoderDiscriminator):
    """BEGAN's convolutional auto-encoder (Berthelot et al. 2017, Figure 1), any image size.

    Encoder: 3x3 conv C -> n; per halving l = 1..L: 3x3 conv (l n -> l n), 3x3 conv with
    stride 2 (l n -> (l + 1) n); a 3x3 conv at the smallest size, then a linear map to the code.
    Decoder: linear code -> n x h0 x w0; per halving: 3x3 conv (n -> n), nearest 2x upsampling;
    3x3 conv (n -> n), 3x3 conv n -> C (linear output). ELU after every hidden layer.
    (h0, w0) is (H, W) halved L times: 7x7 for 28, 8x8 for 32 and 64.
    """

    def __init__(
        self,
        shape: tuple[int, ...],  # (C, H, W)
        channels: int = 64,  # n: feature maps of the first layer (BEGAN's n, here d_channels)
        code: int = 64,  # size of the code Enc(x) (BEGAN's h)
        energy: str = "squared",  # "squared" (eta = 2) or "l1" (eta = 1, BEGAN's choice)
    ) -> None:
        super().__init__(shape, energy)
        if len(self.shape) != 3:
            raise SaddlepointError(
                f"conv_autoencoder needs images (C, H, W), got examples of shape {self.shape}: "
                "use --set model.discriminator=mlp_autoencoder for point data."
            )
        c, h, w = self.shape
        n, steps = channels, halvings(h, w)
        self.base = (n, h >> steps, w >> steps)  # (n, h0, w0)
        enc: list[nn.Module] = [nn.Conv2d(c, n, 3, padding=1), nn.ELU()]
        for level in range(1, steps + 1):
            enc += [
                nn.Conv2d(level * n, level * n, 3, padding=1),
                nn.ELU(),
                nn.Conv2d(level * n, (level + 1) * n, 3, stride=2, padding=1),  # H -> H / 2
                nn.ELU(),
            ]
        top = (steps + 1) * n
        enc += [nn.Conv2d(top, top, 3, padding=1), nn.ELU(), nn.Flatten()]
        self.encoder = nn.Sequential(*enc, nn.Linear(top * self.base[1] * self.base[2], code))
        self.project = nn.Linear(code, math.prod(self.base))
        self.decoder = began_decoder(n, c, steps)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, code)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        h = self.project(code).view(-1, *self.base)  # (B, n, h0, w0); no ELU, as in BEGAN
        return self.decoder(h)  # (B, C, H, W)

"""The generator's latent input: unstructured noise z, and InfoGAN's structured codes c beside it.

InfoGAN (Chen et al. 2016) splits the latent vector into incompressible noise z and codes c
whose mutual information with G(z, c) is maximised: categorical codes (one-hot, uniform over K
values) and continuous codes (U(-1, 1)). The generator sees one flat vector

    [ z (noise_dim) | one-hot c_1 (K_1) | ... | one-hot c_n (K_n) | continuous (n_cont) ]

and `split` recovers the parts, so the mutual-information term can compare a Q head's
predictions with the codes that made each sample. With no codes this is just p_z.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saddlepoint.config import ModelConfig
from saddlepoint.nets.prior import sample_noise


@dataclass(frozen=True)
class LatentSpec:
    noise_dim: int  # dimensions of the unstructured noise z
    prior: str = "uniform"  # p_z: "uniform" on [-sqrt 3, sqrt 3] or "normal" (unit variance)
    categorical: tuple[int, ...] = ()  # InfoGAN: sizes K_i of the categorical codes
    continuous: int = 0  # InfoGAN: number of continuous codes, each U(-1, 1)

    @property
    def dim(self) -> int:
        """Length of the flat latent vector G takes."""
        return self.noise_dim + sum(self.categorical) + self.continuous

    @property
    def has_codes(self) -> bool:
        return bool(self.categorical) or self.continuous > 0

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """n flat latent vectors (n, dim): noise, one-hot categorical codes, continuous codes."""
        parts = [sample_noise(self.prior, n, self.noise_dim, generator=generator, device=device)]
        for k in self.categorical:
            index = torch.randint(k, (n,), generator=generator, device=device)
            parts.append(torch.nn.functional.one_hot(index, k).float())  # (n, K)
        if self.continuous:
            u = torch.rand(n, self.continuous, generator=generator, device=device)
            parts.append(u * 2.0 - 1.0)  # (n, n_cont) ~ U(-1, 1)
        return torch.cat(parts, dim=1)

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """(noise (n, noise_dim), [one-hot (n, K_i)], continuous (n, n_cont)) from flat z."""
        noise, rest = z[:, : self.noise_dim], z[:, self.noise_dim :]
        cats = []
        for k in self.categorical:
            cats.append(rest[:, :k])
            rest = rest[:, k:]
        return noise, cats, rest


def latent_spec(m: ModelConfig) -> LatentSpec:
    """The latent layout the model config asks for: z, plus any InfoGAN codes."""
    return LatentSpec(m.z_dim, m.z_prior, tuple(m.info_categorical), m.info_continuous)

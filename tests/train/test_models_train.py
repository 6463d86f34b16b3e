"""Seconds-long training runs of DCGAN, the conditional GAN, AC-GAN and InfoGAN through the one
Algorithm 1 loop, each checking that something real was learnt (against chance, on held-out
data or fresh samples). A GAN's trajectory is chaotic: another CPU's rounding gives another run,
much as another seed does, so each threshold sits against chance and below the worst of many
seeds (the ranges in the comments, measured on a 2-core CPU with train.seed varied)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from tiny import tiny_config

from saddlepoint.checkpoint import load_training_state
from saddlepoint.config import DataConfig
from saddlepoint.data import load_dataset
from saddlepoint.data.toy import modes
from saddlepoint.nets import build_discriminator, build_generator, from_unit, to_unit
from saddlepoint.train.loop import train

# Small DCGANs on 512 mnist5k digits, Adam at 1e-3 so that 40 iterations show learning.
DCGAN = (
    "model.generator=dcgan",
    "model.discriminator=dcgan",
    "model.g_channels=8",
    "model.d_channels=8",
    "model.z_dim=16",
    "optim_d.name=adam",
    "optim_g.name=adam",
    "optim_d.lr=1e-3",
    "optim_g.lr=1e-3",
    "optim_d.lr_decay=1",
    "optim_g.lr_decay=1",
    "data.limit=512",
    "train.batch_size=32",
    "train.iterations=40",
    "train.log_every=10",
)
N = 500  # held-out images and fresh samples compared


@pytest.fixture(scope="module")
def valid():
    return load_dataset(DataConfig(name="mnist5k"), "valid")


def _trained_discriminator(run, **spec):
    """The run's last discriminator, from its training checkpoint, in training mode (its batch
    norm normalises each minibatch, as during training)."""
    D = build_discriminator(run.config.model, (1, 28, 28), **spec)
    D.load_state_dict(load_training_state(run.path / "checkpoint.pt")["discriminator"])
    return D.train()


def _log(run) -> list[dict]:
    return [json.loads(line) for line in open(run.path / "log.jsonl")]


def test_dcgan_discriminator_separates_and_samples_move_towards_the_data(tmp_path, valid):
    # 60 iterations: at 40 the move below ranged 0.011-0.108 over seeds 0-11, at 60 0.074-0.223
    config = tiny_config(*DCGAN, "train.iterations=60")
    torch.manual_seed(config.train.seed)  # the loop's initialisation, to compare with
    G0 = build_generator(config.model, (1, 28, 28))
    run = train(config, out=tmp_path, progress=False)
    G, D = run.generator, _trained_discriminator(run)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        z = G.sample_z(N, g)
        real_scores = D(from_unit(valid.x[:N], G.output))  # held-out digits, in G's range
        fake_scores = D(G(z))
        accuracy = ((real_scores > 0).float().mean() + (fake_scores < 0).float().mean()) / 2
        mean_before = to_unit(G0.eval()(z), G0.output).mean().item()
        mean_after = to_unit(G(z), G.output).mean().item()
    # D tells held-out real digits from fresh samples (0.97-1.0 over seeds 0-11; chance 0.5) ...
    assert accuracy > 0.8
    # ... and G's samples moved towards the data's mean intensity (0.50 -> 0.32 here; data 0.13).
    # An untrained G moves by exactly 0.
    data_mean = valid.x.mean().item()
    assert abs(mean_after - data_mean) < abs(mean_before - data_mean) - 0.02


@pytest.mark.parametrize("mode", ["concat", "projection"])
def test_conditional_gan_samples_land_on_their_class(mode, tmp_path):
    """On ring8 (8 Gaussians, the label is the mode), G(z, c) must land nearest mode c.

    The 2014 MLP nets with the label concatenated to z and given to D by `mode`; 200 iterations
    (chance 0.125). Measured over seeds 0-11: agreement 1.00 for every seed, with concat and
    with projection; at 100 iterations 10-30% of seeds (by seed range) were still below 0.6."""
    config = tiny_config(
        "data.name=ring8",
        "data.limit=2000",
        f"model.conditional={mode}",
        "model.z_dim=4",
        "model.g_hidden=32,32",
        "model.d_hidden=32,32",
        "model.d_keep_input=1",
        "model.d_keep_hidden=1",
        "model.g_init=0",
        "model.d_init=0",
        "optim_d.name=adam",
        "optim_g.name=adam",
        "optim_d.lr=5e-3",
        "optim_g.lr=5e-3",
        "optim_d.lr_decay=1",
        "optim_g.lr_decay=1",
        "train.batch_size=64",
        "train.iterations=200",
        "train.log_every=50",
    )
    G = train(config, out=tmp_path, progress=False).generator
    assert G.num_classes == 8
    y = torch.arange(800) % 8
    with torch.no_grad():
        x = G(G.sample_z(800, torch.Generator().manual_seed(0)), y)  # (800, 2)
    nearest = torch.cdist(x, modes("ring8").centres.float()).argmin(dim=1)
    assert (nearest == y).float().mean() > 0.6


def test_acgan_class_head_learns_the_classes(tmp_path, valid):
    run = train(tiny_config(*DCGAN, "model.conditional=acgan"), out=tmp_path, progress=False)
    log = _log(run)
    assert log[-1]["term_acgan_d"] < log[0]["term_acgan_d"] - 1.0  # 4.3 -> 1.2-1.8, seeds 0-7
    G, D = run.generator, _trained_discriminator(run, num_classes=10)
    y = valid.y[:N]
    with torch.no_grad():
        real = D.heads(from_unit(valid.x[:N], G.output))["class_logits"]
        fake = D.heads(G(G.sample_z(N, torch.Generator().manual_seed(0)), y))["class_logits"]
    # D's class head classifies held-out digits (0.78-0.82 over seeds 0-7; chance 0.1 +- 0.013
    # on 500 images), and G's samples of class c are classified as c (0.91-1.0): G uses its label.
    assert (real.argmax(1) == y).float().mean() > 0.4
    assert (fake.argmax(1) == y).float().mean() > 0.4


def test_infogan_q_head_recovers_the_codes(tmp_path):
    config = tiny_config(*DCGAN, "model.info_categorical=10", "model.info_continuous=2")
    run = train(config, out=tmp_path, progress=False)
    log = _log(run)
    # -E log Q(c | x) for a Q that knows nothing: log 10 for the categorical code, and for each
    # U(-1, 1) code 0.5 E c^2 = 1/6; a 10-iteration window of 320 samples wanders by ~0.02 about
    # it. Over seeds 0-39 the first window read 2.58-2.63 and the last 0.71-1.98.
    chance = math.log(10) + 2 / 6
    assert log[-1]["term_infogan_d"] < chance - 0.25
    G, D = run.generator, _trained_discriminator(run)
    with torch.no_grad():
        z = G.sample_z(N, torch.Generator().manual_seed(0))
        heads = D.heads(G(z))
    _, (categorical,), continuous = G.latent.split(z)
    # Q names the categorical code of fresh samples: 0.25-0.99 over seeds 0-39, so the bound is
    # set by chance, 0.1 + 5 binomial standard errors on 500 samples (sqrt(0.09 / 500) = 0.013) ...
    chance_hits = 0.1 + 5 * math.sqrt(0.1 * 0.9 / N)
    assert (heads["code_logits"].argmax(1) == categorical.argmax(1)).float().mean() > chance_hits
    # ... and its means track the continuous codes (correlations 0.81-0.95 over seeds 0-39;
    # chance 0 +- 0.045 on 500 samples).
    for j in range(2):
        r = torch.corrcoef(torch.stack([heads["code_mean"][:, j], continuous[:, j]]))[0, 1]
        assert r > 0.6


def test_dcgan_trains_in_channels_last_and_saves_loadable_weights(tmp_path):
    from saddlepoint.train.run import load

    sets = (*DCGAN, "train.iterations=3", "train.channels_last=true")
    run = train(tiny_config(*sets), out=tmp_path, progress=False)
    x = load(run.path).sample(4, seed=0)  # the safetensors snapshot holds contiguous weights
    assert x.shape == (4, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1

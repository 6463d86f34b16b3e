"""The DCGAN networks follow Radford et al. 2016's guidelines at every size; the conditional
wrappers and the model settings fail loudly on what they cannot do."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from saddlepoint.config import Config, ModelConfig, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import build_discriminator, build_generator
from saddlepoint.nets.conditional import LabelConcatGenerator, ProjectionDiscriminator
from saddlepoint.nets.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_layout

DCGAN = ModelConfig(generator="dcgan", discriminator="dcgan")


def _layers(module: nn.Module, kind) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


@pytest.mark.parametrize(
    "side, expected", [(28, (7, 2)), (32, (4, 3)), (64, (4, 4)), (8, (4, 1)), (48, (6, 3))]
)
def test_layout_starts_small_and_doubles(side, expected):
    assert dcgan_layout((1, side, side)) == expected


@pytest.mark.parametrize("shape", [(1, 100, 100), (1, 4, 4), (3, 32, 16), (2,)])
def test_layout_refuses_what_it_cannot_draw(shape):
    with pytest.raises(SaddlepointError, match="dcgan"):
        dcgan_layout(shape)


def test_64x64_has_the_papers_widths_and_batch_norm_placement():
    G = build_generator(DCGAN, (3, 64, 64))
    D = build_discriminator(DCGAN, (3, 64, 64))
    assert isinstance(G, DCGANGenerator) and isinstance(D, DCGANDiscriminator)
    convs = _layers(G, nn.ConvTranspose2d)
    assert [c.out_channels for c in convs] == [512, 256, 128, 64, 3]  # 8 ngf ... ngf, RGB
    assert len(_layers(G, nn.BatchNorm2d)) == 4  # every layer but the output
    assert convs[-1].bias is not None and all(c.bias is None for c in convs[:-1])
    dconvs = _layers(D, nn.Conv2d)
    assert [c.out_channels for c in dconvs] == [64, 128, 256, 512]
    assert [b.num_features for b in _layers(D, nn.BatchNorm2d)] == [128, 256, 512]  # not input
    assert all(a.negative_slope == 0.2 for a in _layers(D, nn.LeakyReLU))
    assert D.out.in_features == 512 * 4 * 4
    # PyTorch's DCGAN example (64x64 RGB, z of 100) has 3,576,704 parameters; ours adds the
    # output layer's 3 biases
    assert sum(p.numel() for p in G.parameters()) == 3_576_704 + 3


def test_28x28_starts_from_7x7():
    G = build_generator(DCGAN, (1, 28, 28))
    first = _layers(G, nn.ConvTranspose2d)[0]
    assert first.kernel_size == (7, 7) and first.out_channels == 2 * DCGAN.g_channels
    h = G.net[:3](G.sample_z(2).view(2, -1, 1, 1))  # after the projection
    assert h.shape == (2, 128, 7, 7)


def test_initialisation_is_normal_002():
    torch.manual_seed(0)
    G = build_generator(DCGAN, (3, 64, 64))
    D = build_discriminator(DCGAN, (3, 64, 64))
    for net in (G, D):
        for conv in _layers(net, (nn.Conv2d, nn.ConvTranspose2d)):
            w = conv.weight
            if w.numel() > 10_000:  # enough draws for a tight estimate
                assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001
        for bn in _layers(net, nn.BatchNorm2d):
            assert abs(bn.weight.mean().item() - 1) < 0.01 and bn.bias.abs().max() == 0


def test_conditional_builders_wrap_and_unconditional_ones_do_not():
    plain = build_generator(ModelConfig(), (1, 28, 28))
    assert [k for k in plain.state_dict()] == [
        "hidden.0.weight",
        "hidden.0.bias",
        "hidden.2.weight",
        "hidden.2.bias",
        "out.weight",
        "out.bias",
    ]  # the 2014 MLP's keys, unchanged
    G = build_generator(ModelConfig(conditional="concat"), (1, 28, 28), num_classes=10)
    assert isinstance(G, LabelConcatGenerator) and G.z_dim == 100
    assert G.net.hidden[0].in_features == 110  # z and the one-hot label
    D = build_discriminator(
        ModelConfig(discriminator="dcgan", conditional="projection"), (1, 28, 28), num_classes=10
    )
    assert isinstance(D, ProjectionDiscriminator)
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    D.eval()
    h = D.net.features(x)
    expected = D.net.out(h).squeeze(1) + (D.embed.weight[y] * h).sum(1)  # psi + <embed(y), phi>
    torch.testing.assert_close(D(x, y), expected)


@pytest.mark.parametrize(
    "changes, spec, message",
    [
        ({"conditional": "concat"}, {}, "needs class labels"),
        ({}, {"num_classes": 10}, "model.conditional=none"),
        ({"conditional": "acgan"}, {"num_classes": 10}, "has no class head"),
        ({"info_categorical": (10,)}, {}, "has no Q head"),
    ],
)
def test_maxout_refuses_what_it_cannot_serve(changes, spec, message):
    with pytest.raises(SaddlepointError, match=message):
        build_discriminator(ModelConfig(**changes), (1, 28, 28), **spec)


@pytest.mark.parametrize(
    "setting",
    [
        "model.conditional=labels",
        "model.g_channels=0",
        "model.d_channels=0",
        "model.aux_weight=-1",
        "model.info_categorical=1",
        "model.info_continuous=-1",
        "model.info_weight=-0.5",
        "model.dcgan_fc=-1",
    ],
)
def test_config_refuses_bad_model_settings(setting):
    with pytest.raises(SaddlepointError, match=setting.split("=")[0]):
        override(Config(), [setting])


@pytest.mark.parametrize("norm", ["layer", "none"])
def test_penalty_ready_discriminator_treats_examples_independently(norm):
    # model.d_norm=layer|none: no batch norm, so each example's logit depends on it alone (what
    # WGAN-GP's per-example gradient norms need); with batch norm the same check fails
    from saddlepoint.objectives.penalties import batchnorm_in

    torch.manual_seed(0)
    D = DCGANDiscriminator((1, 28, 28), 8, norm=norm).train()
    assert not batchnorm_in(D)
    assert (norm == "layer") == any(isinstance(m, nn.GroupNorm) for m in D.modules())
    x = torch.randn(6, 1, 28, 28)
    alone = torch.cat([D(x[i : i + 1]) for i in range(6)])
    assert torch.allclose(D(x), alone, atol=1e-5)
    batch = DCGANDiscriminator((1, 28, 28), 8).train()
    assert batchnorm_in(batch)
    assert not torch.allclose(batch(x), torch.cat([batch(x[i : i + 2])[:1] for i in range(6)]))


def test_config_refuses_unknown_d_norm():
    with pytest.raises(SaddlepointError, match="model.d_norm must be batch, layer or none"):
        override(Config(), ["model.d_norm=instance"])


def test_infogan_fc_layers_match_the_papers_mnist_nets():
    # Chen et al. 2016, Table 1 (MNIST): G is FC 1024 - FC 7x7x128 - upconv 64 - upconv 1,
    # D is conv 64 - conv 128 - FC 1024 - output, with Q on the FC 1024 features
    m = override(
        Config(model=DCGAN),
        ["model.dcgan_fc=1024", "model.info_categorical=10", "model.info_continuous=2"],
    ).model
    G, D = build_generator(m, (1, 28, 28)), build_discriminator(m, (1, 28, 28))
    assert [x.out_features for x in _layers(G, nn.Linear)] == [1024]
    assert _layers(G, nn.Linear)[0].in_features == m.z_dim + 10 + 2
    assert [c.out_channels for c in _layers(G, nn.ConvTranspose2d)] == [128, 64, 1]
    assert _layers(G, nn.ConvTranspose2d)[0].in_channels == 1024
    assert [b.num_features for b in _layers(G, nn.BatchNorm1d)] == [1024]
    assert [c.out_channels for c in _layers(D, nn.Conv2d)] == [64, 128]
    assert [b.num_features for b in _layers(D, nn.BatchNorm1d)] == [1024]
    assert D.out.in_features == 1024 and D.aux.q[0].in_features == 1024
    G.train(), D.train()
    x = G(G.sample_z(5))
    heads = D.heads(x)
    assert x.shape == (5, 1, 28, 28) and heads["logits"].shape == (5,)
    assert heads["code_logits"].shape == (5, 10) and heads["code_mean"].shape == (5, 2)
    # no FC layer leaves the nets (and so their saved weights) as they were
    plain = build_discriminator(DCGAN, (1, 28, 28))
    assert not _layers(plain, nn.Linear)[:-1] and not _layers(plain, nn.BatchNorm1d)


def test_fc_layer_takes_the_critics_normalisation():
    layer = DCGANDiscriminator((1, 28, 28), 8, norm="layer", fc=16)
    assert [g.num_channels for g in _layers(layer, nn.GroupNorm)] == [16, 16]
    none = DCGANDiscriminator((1, 28, 28), 8, norm="none", fc=16)
    assert not _layers(none, (nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d))
    assert none.features[-2].bias is not None

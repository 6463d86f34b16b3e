"""train.cuda_graph: refused in one sentence, before any run folder, wherever it cannot capture;
on a CUDA GPU, a few iterations replayed from graphs reach the weights eager ones do."""

from __future__ import annotations

import importlib
import json
import re

import pytest
import torch
from tiny import tiny_argv, tiny_config

from saddlepoint.checkpoint import load_training_state
from saddlepoint.cli import main
from saddlepoint.config import Config, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.presets import preset
from saddlepoint.sweep.cells import settings_digest
from saddlepoint.train.cuda_graph import check_cuda_graph, check_terms
from saddlepoint.train.lapgan import train_lapgan
from saddlepoint.train.loop import train

REFUSED = "train.cuda_graph=true cannot be used here: "
NO_GPU = "CUDA graphs need a CUDA GPU, but this run trains on cpu"
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_off_by_default_and_set_from_the_command_line(capsys):
    assert Config().train.cuda_graph is False
    assert main(["train", "--dry-run", *tiny_argv("train.cuda_graph=true")]) == 0
    assert json.loads(capsys.readouterr().out)["train"]["cuda_graph"] is True


@pytest.mark.parametrize(
    "name, before",
    [  # settings_digest of each preset computed before the field existed
        (
            "goodfellow2014-mnist",
            "376ec1cc53ce30d1c115cda45665c17477ff32c19c4aa5e55087e3a35cd2ab03",
        ),
        ("dcgan-mnist", "3839c3415661d5280ade46a2aa3a7b69a2fe88e621f6329fa77a033d00945722"),
    ],
)
def test_off_it_leaves_the_sweep_digests_as_they_were(name, before):
    """cuda_graph=false digests as configs did before the field (sweep.cells.NEUTRAL_ADDITIONS),
    so recorded sweep cells keep their keys; cuda_graph=true makes a new key."""
    assert settings_digest(preset(name)) == before
    assert settings_digest(override(preset(name), ["train.cuda_graph=true"])) != before


@pytest.mark.parametrize(
    "sets, why",
    [
        ((), NO_GPU),
        (("train.ensemble=2",), "an ensemble (train.ensemble=2) is not captured yet"),
        (("train.compile=true",), "train.compile captures graphs itself"),
        (("train.precision=bfloat16",), "graphs run in float32 only, not bfloat16"),
        (("train.precision=float16",), "graphs run in float32 only, not float16"),
    ],
)
def test_what_cannot_be_captured_is_refused_before_a_run_folder(tmp_path, sets, why):
    out = tmp_path / "runs"
    with pytest.raises(SaddlepointError, match="^" + re.escape(REFUSED + why)):
        train(tiny_config("train.cuda_graph=true", *sets), out=out, progress=False)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without CUDA")
def test_asking_for_cuda_without_one_is_refused_after_the_fallback_warning(tmp_path):
    config = tiny_config("train.cuda_graph=true", "train.device=cuda")
    with pytest.warns(UserWarning, match="training on the CPU instead"):
        with pytest.raises(SaddlepointError, match=re.escape(NO_GPU + ", and PyTorch sees no")):
            train(config, out=tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists()


def test_the_command_line_refuses_with_exit_code_2_and_no_run_folder(tmp_path, capsys):
    out = tmp_path / "runs"
    argv = ["train", "--quiet", "--out", str(out), *tiny_argv("train.cuda_graph=true")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"saddlepoint: error: {REFUSED}{NO_GPU}")
    assert err.count("\n") == 0
    assert not out.exists() or not any(out.iterdir())


def test_lapgan_is_refused_before_its_run_folder(tmp_path):
    config = override(preset("lapgan-mnist"), ["data.limit=200", "train.cuda_graph=true"])
    with pytest.raises(SaddlepointError, match=re.escape(REFUSED + "LAPGAN's levels")):
        train_lapgan(config, out=tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_ddp_and_extra_terms_are_refused():
    config = tiny_config("train.cuda_graph=true")
    with pytest.raises(SaddlepointError, match=re.escape(REFUSED + "DDP's gradient all-reduce")):
        check_cuda_graph(config, True, torch.device("cuda"))
    with pytest.raises(SaddlepointError, match=re.escape(REFUSED + "the extra loss terms (ac)")):
        check_terms(["ac"])
    check_terms([])  # no terms: nothing to refuse
    check_cuda_graph(config, False, torch.device("cuda"))  # one GAN in float32 on CUDA: allowed
    check_cuda_graph(tiny_config("train.ensemble=2"), True, torch.device("cpu"))  # off: nothing


@pytest.mark.parametrize("sets", [(), ("train.k=2", "train.reuse_fakes=false")])
def test_the_passes_are_wired_where_the_loop_calls_them(tmp_path, monkeypatch, sets):
    """On a CPU, with the recording stubbed out (each pass left eager): the loop reaches the
    eager run's weights exactly, and each pass is recorded for the shapes it is called with."""
    state = importlib.import_module("saddlepoint.train.state")  # the module, not train()
    recorded = []

    def record(module, args, allow_unused_input):
        recorded.append([(tuple(a.shape), a.requires_grad) for a in args])
        return module

    monkeypatch.setattr(state, "check_cuda_graph", lambda *a: None)
    monkeypatch.setattr(torch.cuda, "make_graphed_callables", record)
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device: torch.get_rng_state())
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda value, device: None)
    for dcgan in (False, True):
        both = (*sets, *(DCGAN if dcgan else ()), "train.iterations=3")
        eager = train(tiny_config(*both), out=tmp_path / "eager", progress=False)
        graphed = train(
            tiny_config(*both, "train.cuda_graph=true"), out=tmp_path / "graphs", progress=False
        )
        for part in ("generator", "discriminator"):
            a = load_training_state(eager.path / "checkpoint.pt")[part]
            b = load_training_state(graphed.path / "checkpoint.pt")[part]
            for key in a:
                assert torch.equal(a[key], b[key]), f"{part} {key}"
    m, x, z = 20, (1, 28, 28), (8,)
    assert recorded[:3] == [  # the 2014 nets: G, D on [x; G(z)], D frozen on G(z)
        [((m, *z), False)],
        [((2 * m, *x), False)],
        [((m, *x), True)],
    ]
    assert recorded[3:] == [  # DCGAN's batch-norm D: x and G(z) in separate passes
        [((m, *z), False)],
        [((m, *x), False)],
        [((m, *x), False)],
        [((m, *x), True)],
    ]


# ---------------------------------------------------------------------------------- on a GPU

NO_DROPOUT = ("model.d_keep_input=1", "model.d_keep_hidden=1")  # no random masks to line up
DCGAN = (  # a batch-norm D: real and fake in separate graphs
    "model.generator=dcgan",
    "model.discriminator=dcgan",
    "model.g_channels=8",
    "model.d_channels=8",
    "optim_d.lr=0.01",  # momentum SGD, linear in the gradients: rounding differences stay small
    "optim_g.lr=0.01",  # (Adam's first steps, about lr x sign(g), would magnify them)
)


@needs_cuda
@pytest.mark.parametrize(
    "sets",
    [
        NO_DROPOUT,
        (*NO_DROPOUT, "train.k=2", "train.reuse_fakes=false"),
        (*NO_DROPOUT, "objective.penalty=r1", "objective.penalty_every=2"),  # eager, plain D
        DCGAN,
    ],
    ids=["2014-nets", "k2-fresh-fakes", "lazy-r1", "dcgan-batchnorm"],
)
def test_graphs_reach_the_weights_eager_passes_do(tmp_path, sets):
    sets = ("train.device=cuda", "train.iterations=6", *sets)
    eager = train(tiny_config(*sets), out=tmp_path / "eager", progress=False)
    graphed = train(
        tiny_config(*sets, "train.cuda_graph=true"), out=tmp_path / "graph", progress=False
    )
    for part in ("generator", "discriminator", "optim_g"):
        a = _tensors(load_training_state(eager.path / "checkpoint.pt")[part])
        b = _tensors(load_training_state(graphed.path / "checkpoint.pt")[part])
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-5, msg=f"{part} {key}")


@needs_cuda
def test_graphs_with_dropout_train_and_resume(tmp_path):
    """The 2014 D's dropout inside the graphs: finite weights, and a checkpoint that resumes."""
    sets = ("train.device=cuda", "train.iterations=4", "train.checkpoint_every=2")
    run = train(tiny_config(*sets, "train.cuda_graph=true"), out=tmp_path, progress=False)
    assert run.iteration == 4
    state = load_training_state(run.path / "checkpoint.pt")
    assert all(torch.isfinite(v).all() for v in state["generator"].values())
    longer = override(run.config, ["train.iterations=6"])
    assert train(longer, resume=run.path, progress=False).iteration == 6


def _tensors(tree, prefix: str = "") -> dict[str, torch.Tensor]:
    """A state dict's tensors (nested, as an optimiser's) by dotted key."""
    if isinstance(tree, torch.Tensor):
        return {prefix: tree.float().cpu()}
    if not isinstance(tree, (dict, list, tuple)):
        return {}  # a learning rate, a flag: the same in both by construction
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    return {k: v for key, sub in items for k, v in _tensors(sub, f"{prefix}.{key}").items()}

"""Pretrained generators: listed, sampled from the command line, loaded from Python, stored in
float16 and checked like any snapshot; a folder made here stands in for the package's."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from tiny import tiny_config

import saddlepoint
from saddlepoint import pretrained
from saddlepoint.cli import main
from saddlepoint.errors import SaddlepointError
from saddlepoint.train import train

RECORD = {
    "description": "a tiny test generator",
    "preset": "tiny",
    "command": "saddlepoint train --preset tiny",
    "seed": 0,
    "iterations": 10,
    "scores": {"parzen": 1.5},
}


@pytest.fixture(scope="module")
def shelf(tmp_path_factory):
    """A folder holding one pretrained generator, exported in float16 from a tiny run."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("pretrained")
    run = train(tiny_config(), out=root / "runs", progress=False)
    path = pretrained.export(
        run.path / "generator.safetensors", "tiny", RECORD, where=root / "shelf"
    )
    return root / "shelf", path, run


def test_export_stores_float16_and_the_record(shelf) -> None:
    folder, path, run = shelf
    weights = load_file(str(path))
    assert all(t.dtype == torch.float16 for t in weights.values() if t.is_floating_point())
    assert path.stat().st_size < 0.6 * (run.path / "generator.safetensors").stat().st_size
    record = json.loads((folder / "tiny.json").read_text())
    assert record["dtype"] == "float16" and record["command"] == RECORD["command"]
    with pytest.raises(SaddlepointError, match="lacks iterations, scores"):
        pretrained.export(
            run.path / "generator.safetensors",
            "x",
            {"description": "", "preset": "", "command": "", "seed": 0},
            where=folder,
        )


def test_load_pretrained_upcasts_and_samples_like_the_run(shelf, monkeypatch) -> None:
    folder, _, run = shelf
    monkeypatch.setenv("SADDLEPOINT_PRETRAINED", str(folder))
    loaded = saddlepoint.load_pretrained("tiny")
    assert all(p.dtype == torch.float32 for p in loaded.generator.parameters())
    assert loaded.iteration == 10 and loaded.config.preset == "tiny"
    # float16 weights: samples within float16's rounding of the float32 run's
    torch.testing.assert_close(loaded.sample(16, seed=3), run.sample(16, seed=3), atol=5e-3, rtol=0)
    with pytest.raises(
        SaddlepointError, match=r"no pretrained generator 'nope': the installed ones are: tiny"
    ):
        saddlepoint.load_pretrained("nope")


def test_a_damaged_pretrained_file_is_refused(shelf, tmp_path, monkeypatch) -> None:
    folder, path, _ = shelf
    (tmp_path / "bad.safetensors").write_bytes(path.read_bytes()[:-100])
    (tmp_path / "bad.json").write_text(json.dumps(RECORD))
    monkeypatch.setenv("SADDLEPOINT_PRETRAINED", str(tmp_path))
    with pytest.raises(
        SaddlepointError, match="bad.safetensors is not a readable safetensors snapshot"
    ):
        saddlepoint.load_pretrained("bad")


def test_command_line_lists_and_samples(shelf, tmp_path, monkeypatch, capsys) -> None:
    folder, _, _ = shelf
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SADDLEPOINT_PRETRAINED", str(tmp_path / "empty"))
    assert main(["pretrained"]) == 0
    assert "no pretrained generators are installed" in capsys.readouterr().out
    assert main(["sample", "--pretrained", "tiny"]) == 2
    assert "none are installed" in capsys.readouterr().err
    monkeypatch.setenv("SADDLEPOINT_PRETRAINED", str(folder))
    assert main(["pretrained"]) == 0
    out = capsys.readouterr().out
    assert (
        "tiny: a tiny test generator" in out and "made by: saddlepoint train --preset tiny" in out
    )
    assert "iterations 10" in out and "parzen 1.5" in out
    assert main(["sample", "--pretrained", "tiny", "-n", "4"]) == 0
    png = capsys.readouterr().out.strip()
    assert png == "runs/pretrained/tiny/samples/sample-seed0.png" and Image.open(png).size[0] > 56
    assert main(["sample", "--pretrained", "tiny", str(tmp_path)]) == 2
    assert "but not both" in capsys.readouterr().err


def test_the_package_folder_is_package_data(monkeypatch) -> None:
    """By default the generators are read from the package's own folder, which pyproject ships
    as package data (*.safetensors and *.json beside its README)."""
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    monkeypatch.delenv("SADDLEPOINT_PRETRAINED", raising=False)
    assert pretrained.folder() == Path(pretrained.__file__).parent
    assert (pretrained.folder() / "README.md").is_file()
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    shipped = project["tool"]["setuptools"]["package-data"]["saddlepoint.pretrained"]
    assert {"*.safetensors", "*.json"} <= set(shipped)


def test_neighbours_of_a_pretrained_generator_search_the_data_root_given(
    shelf, tmp_path, monkeypatch, capsys
) -> None:
    """An export drops the training machine's data.root; --data-root names the images to
    search, and a folder that cannot be read is said in one sentence with the fix."""
    folder, path, _ = shelf
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SADDLEPOINT_PRETRAINED", str(folder))
    from saddlepoint.checkpoint import load_snapshot

    assert load_snapshot(path)[1]["config"]["data"]["root"] is None
    assert main(["sample", "--pretrained", "tiny", "--neighbours", "-n", "6"]) == 0
    assert capsys.readouterr().out.strip().endswith("neighbours-seed0.png")
    missing = tmp_path / "nowhere"
    argv = ["sample", "--pretrained", "tiny", "--neighbours", "--data-root", str(missing)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"could not be read at {missing}" in err
    assert "--data-root DIR" in err and "Traceback" not in err
    missing.mkdir()  # a folder without the images: the loader's own sentence names what lacks
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(missing) in err and "--data-root" not in err


SHIPPED = {
    "demo-mnist5k",
    "dcgan-mnist",
    "dcgan-fashion",
    "cgan-mnist",
    "acgan-mnist",
    "infogan-mnist",
}


def test_the_shipped_generators_load_and_sample(monkeypatch) -> None:
    """Every generator in the package folder has its full record (scored, with the command that
    made it), carries no machine's data folder, and draws finite, varied images."""
    monkeypatch.delenv("SADDLEPOINT_PRETRAINED", raising=False)
    shipped = pretrained.available()
    assert set(shipped) == SHIPPED
    for name, record in shipped.items():
        assert set(pretrained.FIELDS) <= set(record) and record["dtype"] == "float16", name
        assert record["scores"]["covered"] == 10 and record["command"].startswith("saddlepoint")
        run = saddlepoint.load_pretrained(name)
        assert run.config.data.root is None and run.iteration == record["iterations"]
        x = run.sample(8, seed=0)
        assert torch.isfinite(x).all() and x.std() > 0.01, name

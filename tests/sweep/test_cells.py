"""The grid: presets x axes x seeds in the spec's order, stable keys, and train commands that
build exactly the cells' configs."""

from __future__ import annotations

import json
import re
import shlex

from saddlepoint.cli import main
from saddlepoint.config import override
from saddlepoint.presets import preset
from saddlepoint.sweep.cells import Execution, cell_key, expand
from saddlepoint.sweep.spec import load_spec

AXES = """[[runs]]
presets = ["demo", "goodfellow2014-mnist"]
set = ["train.k=2"]
[runs.axes]
"optim_d.lr" = [1e-4, 2e-4]
"model.g_hidden" = [[8], [8, 8]]

[[runs]]
presets = ["demo"]
"""


def test_presets_times_axes_times_seeds_in_order(write_spec):
    cells = expand(load_spec(write_spec(runs=AXES, seeds='"0-2"')))
    assert len(cells) == (2 * 2 * 2 + 1) * 3
    assert [c.seed for c in cells[:3]] == [0, 1, 2]
    first = cells[0]
    assert first.preset == "demo"
    assert "optim_d.lr=0.0001" in first.overrides and "model.g_hidden=8" in first.overrides
    assert "train.k=2" in first.overrides
    assert list(first.overrides) == sorted(first.overrides)  # canonical: sorted by key
    assert "model.g_hidden=8,8" in cells[3].overrides  # the last axis varies fastest
    assert "optim_d.lr=0.0002" in cells[3 * 2].overrides
    assert cells[3 * 4].preset == "goodfellow2014-mnist"
    last = cells[-1]
    assert "train.k=2" not in last.overrides  # the second block has no train.k
    assert len({c.key for c in cells}) == len(cells)
    assert all(re.fullmatch(r"[a-z0-9-]+-s\d-[0-9a-f]{10}", c.key) for c in cells)


def test_keys_are_stable_and_name_the_experiment_only(write_spec):
    spec = write_spec(runs='[[runs]]\npresets = ["demo"]\nset = ["optim_d.lr=1e-4"]\n')
    keys = [c.key for c in expand(load_spec(spec))]
    assert keys == [c.key for c in expand(load_spec(spec))]  # the same every time
    # 1e-4 written another way, the same value given as an axis, another device or data
    # folder: the same experiment, the same keys
    same = write_spec(
        "same.toml", runs='[[runs]]\npresets = ["demo"]\n[runs.axes]\n"optim_d.lr" = [0.0001]\n'
    )
    elsewhere = Execution(device="cuda", data_roots=(("*", "/data"),))
    assert [c.key for c in expand(load_spec(same), elsewhere)] == keys
    # a later value of a key replaces an earlier one, as with --set
    later = write_spec(
        "later.toml",
        runs='[[runs]]\npresets = ["demo"]\nset = ["optim_d.lr=0.5", "optim_d.lr=1e-4"]\n',
    )
    assert [c.key for c in expand(load_spec(later))] == keys
    other = write_spec(
        "other.toml", runs='[[runs]]\npresets = ["demo"]\nset = ["optim_d.lr=2e-4"]\n'
    )
    assert not set(keys) & {c.key for c in expand(load_spec(other))}
    assert cell_key("demo", ("a=1", "b=2"), 0) == cell_key("demo", ("b=2", "a=1"), 0)
    assert cell_key("demo", ("a=1",), 0) != cell_key("demo", ("a=1",), 1)
    # a preset whose definition changed is another experiment: its settings digest differs
    assert cell_key("demo", ("a=1",), 0, "aaaa") != cell_key("demo", ("a=1",), 0, "bbbb")


def test_execution_settings(write_spec):
    cells = expand(load_spec(write_spec(runs=AXES)), Execution("cuda", (("mnist", "/data/mnist"),)))
    toy = cells[0].group  # ring8 reads no files: no data.root
    assert toy.sets == ("train.threads=1", "train.device=cuda")
    assert toy.config.train.threads == 1 and toy.config.train.device == "cuda"
    threaded = expand(load_spec(write_spec("t.toml", sets=("train.threads=2",))))[0].group
    assert "train.threads=1" not in threaded.sets and threaded.threads == 2
    mnist = expand(
        load_spec(write_spec("m.toml", sets=("data.name=mnist",), metrics="[]")),
        Execution(data_roots=(("*", "/data/mnist"),)),
    )[0].group
    assert "data.root=/data/mnist" in mnist.sets and mnist.config.data.root == "/data/mnist"


def test_print_commands_parse_back_to_the_same_configs(write_spec, tmp_path, capsys):
    spec = write_spec(runs=AXES, extra=f'out = "{tmp_path / "cells"}"')
    assert main(["sweep", str(spec), "--print-commands", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    cells = expand(load_spec(spec), Execution("cpu"))
    assert len(lines) == len(cells)
    for line, cell in zip(lines, cells):
        argv = shlex.split(line)
        assert argv[:2] == ["saddlepoint", "train"]
        assert argv[argv.index("--out") + 1] == str(tmp_path / "cells" / cell.key)
        assert main([*argv[1:], "--dry-run"]) == 0
        built = json.loads(capsys.readouterr().out)
        wanted = override(preset(cell.preset), [*cell.overrides, f"train.seed={cell.seed}"])
        wanted = override(wanted, list(cell.group.sets))
        assert built == json.loads(wanted.to_json())
        assert wanted == override(cell.group.config, [f"train.seed={cell.seed}"])


def test_settings_digest_ignores_where_a_cell_runs_but_not_what_it_computes():
    from saddlepoint.config import override
    from saddlepoint.presets import preset
    from saddlepoint.sweep.cells import settings_digest

    base = preset("demo")
    moved = override(
        base, ["train.threads=2", "train.device=cpu", "data.root=/tmp", "train.seed=3"]
    )
    assert settings_digest(moved) == settings_digest(base)
    assert settings_digest(override(base, ["optim_d.lr=0.0003"])) != settings_digest(base)


def test_a_field_added_at_its_neutral_value_keeps_recorded_keys():
    """A config field added later (NEUTRAL_ADDITIONS) digests, at its neutral value, exactly as
    the config did before the field existed; any other value makes a new key."""
    import hashlib

    from saddlepoint.config import override
    from saddlepoint.presets import preset
    from saddlepoint.sweep.cells import EXECUTION_KEYS, NEUTRAL_ADDITIONS, settings_digest

    base = preset("dcgan-mnist")
    values = base.to_dict()
    for section, key in (*EXECUTION_KEYS, ("train", "seed"), *NEUTRAL_ADDITIONS):
        values[section].pop(key, None)
    before = hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":")).encode())
    assert settings_digest(base) == before.hexdigest()
    assert settings_digest(override(base, ["model.dcgan_fc=1024"])) != settings_digest(base)


def test_the_default_config_digest_is_pinned():
    """Recorded sweep results are found by this digest: adding a config field changes it and
    would run every recorded cell again. Register the field in sweep.cells.NEUTRAL_ADDITIONS
    with its neutral value; change this pin only for a change that should re-run everything."""
    from saddlepoint.config import Config
    from saddlepoint.sweep.cells import settings_digest

    pinned = "c0ed0d156f1e4a662a07c75cf35e6f6c4ba78f394fbb4fb225abdb0987a6d47f"
    assert settings_digest(Config()) == pinned, (
        "the default config's sweep digest changed: register a new config field in "
        "saddlepoint.sweep.cells.NEUTRAL_ADDITIONS (see this test's docstring)"
    )

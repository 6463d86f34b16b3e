"""Progress for batch jobs: with stderr not a terminal, one plain status line every N seconds
(and one at the end) in place of the bar; --quiet prints neither."""

from __future__ import annotations

import io
import re

from tiny import tiny_argv, tiny_config

from saddlepoint.cli import main
from saddlepoint.progress import Progress, duration
from saddlepoint.train import train

LINE = re.compile(  # the scalars appear once the first log line is written
    r"^iteration (\d+)/10 \((\d+)%\), [0-9.e+]+ it/s(, d_loss [-0-9.e]+, g_loss [-0-9.e]+, "
    r"D\(x\) [0-9.e-]+, D\(G\(z\)\) [0-9.e-]+)?(, eta \S+)?$"
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_status_line_every_interval_and_one_at_the_end() -> None:
    stream, clock = io.StringIO(), Clock()  # a StringIO is not a terminal
    progress = Progress(100, noun="iteration", status_every=30, stream=stream, clock=clock)
    for i in range(100):
        clock.now += 1.0  # one iteration per second
        progress.update()
        if i == 10:
            progress.show({"d_loss": 1.2345, "g_loss": 0.5})
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines == [
        "iteration 30/100 (30%), 1 it/s, d_loss 1.23, g_loss 0.5, eta 1m10s",
        "iteration 60/100 (60%), 1 it/s, d_loss 1.23, g_loss 0.5, eta 40s",
        "iteration 90/100 (90%), 1 it/s, d_loss 1.23, g_loss 0.5, eta 10s",
        "iteration 100/100 (100%), 1 it/s, d_loss 1.23, g_loss 0.5",
    ]
    assert "\r" not in stream.getvalue()  # no bar
    quiet = io.StringIO()
    with Progress(10, enabled=False, status_every=0, stream=quiet) as off:
        off.update(10)
    assert quiet.getvalue() == ""
    assert [duration(s) for s in (45, 192, 3720)] == ["45s", "3m12s", "1h02m"]


def test_training_in_a_batch_job_prints_status_lines(tmp_path, capsys) -> None:
    run = train(tiny_config(), out=tmp_path / "a", status_every=0)  # a line per iteration
    err = capsys.readouterr().err
    assert "\r" not in err  # no bar in a file
    lines = [line for line in err.splitlines() if line.startswith("iteration ")]
    assert len(lines) == 10 and all(LINE.match(line) for line in lines), lines
    assert "d_loss" not in lines[0] and "D(G(z))" in lines[-1]  # logged every 5 iterations
    assert lines[-1].startswith("iteration 10/10 (100%)") and run.iteration == 10
    # the command line: --status-every; --quiet prints no progress at all
    argv = ["train", "--out", str(tmp_path / "b"), *tiny_argv()]
    assert main([*argv, "--status-every", "1000"]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("iteration ")] == [
        next(line for line in err.splitlines() if line.startswith("iteration 10/10"))
    ]  # only the closing line: the interval never passed
    assert main([*argv, "--quiet"]) == 0
    assert "iteration" not in capsys.readouterr().err

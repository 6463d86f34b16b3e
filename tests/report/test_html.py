"""The HTML run report: self-contained, built from a real tiny run, and rendered by Chromium."""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from PIL import Image
from tiny import tiny_config

from saddlepoint.cli import main
from saddlepoint.errors import SaddlepointError
from saddlepoint.report.grid import save_grid
from saddlepoint.report.html import PANELS, _evenly, write_report
from saddlepoint.train.loop import train

PNG_URI = "data:image/png;base64,"


class _Images(HTMLParser):
    """Every <img>'s (src, alt), and every tag that could fetch or run something."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[tuple[str, str]] = []
        self.other: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append((a.get("src", ""), a.get("alt", "")))
        elif tag in ("script", "link", "iframe", "object", "embed") or "href" in a:
            self.other.append(tag)


def _images(html: str) -> _Images:
    parser = _Images()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A real tiny run (10 iterations, grids at 5 and 10), plus the files later stages add:
    a health warning and two evaluation JSON files."""
    torch.set_num_threads(1)
    run = train(
        tiny_config("train.sample_every=5"), out=tmp_path_factory.mktemp("runs"), progress=False
    )
    warning = {"code": "mode_collapse", "iteration": 10, "message": "the samples <collapsed>"}
    (run.path / "warnings.jsonl").write_text(json.dumps(warning) + "\n")
    (run.path / "eval").mkdir()
    parzen = {"sigma": 0.17, "sigmas": [0.1, 0.17], "test_mean": 123.456, "test_std_error": 2.5}
    (run.path / "eval" / "parzen-it10.json").write_text(json.dumps(parzen))
    curve = [{"iteration": i, "test_ll": 100.0 + i, "extra": [1]} for i in (5, 10)]
    (run.path / "eval" / "parzen-curve.json").write_text(json.dumps(curve))
    return run.path


@pytest.fixture(scope="module")
def report(run_dir) -> Path:
    return write_report(run_dir)


def test_report_is_self_contained_with_curves_and_grids(run_dir, report):
    assert report == run_dir / "report.html"
    html = report.read_text()
    parsed = _images(html)
    assert parsed.other == []  # no scripts, stylesheets, links or frames
    assert "http://" not in html and "https://" not in html
    assert "img-src data:" in html  # the CSP that makes a browser refuse anything else
    alts = [alt for _, alt in parsed.images]
    logged = set(json.loads((run_dir / "log.jsonl").read_text().splitlines()[-1]))
    assert {"d_loss", "g_loss", "d_real", "d_fake", "images_per_s"} <= logged
    for panel in PANELS:  # a panel exactly when the log has one of its keys
        assert (panel.title in alts) == bool(logged & set(panel.keys)), panel.title
    for src, alt in parsed.images:
        assert src.startswith(PNG_URI), alt
        img = Image.open(io.BytesIO(base64.b64decode(src[len(PNG_URI) :])))
        img.verify()  # a whole, valid PNG
    # the grids are the run's own files, byte for byte, in training order
    grids = [(src, alt) for src, alt in parsed.images if alt.startswith("iteration ")]
    assert [alt for _, alt in grids] == ["iteration 5", "iteration 10"]
    file = run_dir / "samples" / "iter-0000010.png"
    assert base64.b64decode(grids[1][0][len(PNG_URI) :]) == file.read_bytes()


def test_report_shows_warnings_metrics_config_and_time(run_dir, report):
    html = report.read_text()
    assert "mode_collapse" in html and "the samples &lt;collapsed&gt;" in html  # escaped
    assert "123.456" in html and "test_std_error" in html  # a dict's headline numbers
    assert "not shown: sigmas" in html  # its list fields are named, not dumped
    assert "<th>test_ll</th>" in html and "<td>110</td>" in html  # a list of records: a table
    assert '"objective": {' in html and "non_saturating" in html  # the config
    last = json.loads((run_dir / "log.jsonl").read_text().splitlines()[-1])
    assert f"{last['seconds']:.1f} s" in html  # the training time
    assert "10 of 10" in html


def test_many_grids_are_thinned_to_twelve_with_the_last(tmp_path):
    (tmp_path / "config.json").write_text('{"preset": "x"}')
    for it in range(1, 31):
        save_grid(torch.full((1, 1, 2, 2), it / 30), tmp_path / "samples" / f"iter-{it:07d}.png")
    html = write_report(tmp_path, tmp_path / "out" / "r.html").read_text()
    alts = [alt for _, alt in _images(html).images]
    assert len(alts) == 12 and alts[0] == "iteration 1" and alts[-1] == "iteration 30"
    assert "No scalars logged yet" in html and "None raised." in html
    assert _evenly(list(range(30)), 12) == [0, 3, 5, 8, 11, 13, 16, 18, 21, 24, 26, 29]
    assert _evenly([1, 2], 12) == [1, 2]


def test_not_a_run_folder(tmp_path, capsys):
    with pytest.raises(SaddlepointError, match="not a run folder"):
        write_report(tmp_path)
    with pytest.raises(SaddlepointError, match="no run at"):
        write_report(tmp_path / "missing")
    assert main(["report", str(tmp_path)]) == 2
    assert "saddlepoint: error:" in capsys.readouterr().err


def test_cli_writes_the_report(tmp_path, capsys):
    (tmp_path / "config.json").write_text('{"preset": "x"}')
    out = tmp_path / "page.html"
    assert main(["report", str(tmp_path), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "report.html")


# ------------------------------------------------------------------------------------------------
# Rendering in a real browser.


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


_ONTO_3_AND_4 = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execvp(sys.argv[3], sys.argv[3:])"
)


def _high_fd(fd: int) -> int:
    """A duplicate of fd numbered 10 or more; the original is closed."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class _DevTools:
    """Headless Chromium driven by the DevTools protocol over --remote-debugging-pipe: JSON
    messages ending in a NUL byte, commands into the browser's fd 3, replies and events out of
    its fd 4. No websocket client or driver package is needed."""

    def __init__(self, exe: str, profile: Path) -> None:
        cmd_r, self.cmd_w = os.pipe()  # we write commands; chromium reads them on fd 3
        self.out_r, out_w = os.pipe()  # chromium writes on fd 4; we read
        # the child's ends moved to fds >= 10, so moving them onto 3 and 4 overwrites neither
        cmd_r, out_w = (_high_fd(fd) for fd in (cmd_r, out_w))
        flags = [
            "--headless",
            "--no-sandbox",  # root in a container
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(  # a Python trampoline puts them on fds 3 and 4 (sh's
            # redirections stop at fd 9), then execs chromium
            [sys.executable, "-c", _ONTO_3_AND_4, str(cmd_r), str(out_w), exe, *flags],
            pass_fds=(cmd_r, out_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(profile.parent / "chromium.log", "w"),  # noqa: SIM115
        )
        self.log = profile.parent / "chromium.log"
        os.close(cmd_r)
        os.close(out_w)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.deadline = time.monotonic() + 60

    def _read(self) -> dict:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.out_r], [], [], left)[0]:
                raise TimeoutError("chromium did not answer within 60 s")
            chunk = os.read(self.out_r, 1 << 16)
            if not chunk:
                raise RuntimeError(
                    "chromium closed its DevTools pipe: " + self.log.read_text()[-3000:]
                )
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.cmd_w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        while not any(
            e.get("method") == method and e.get("sessionId") == session for e in self.events
        ):
            self.events.append(self._read())

    def open(self, url: str) -> tuple[list[str], list[dict]]:
        """Load a page in a fresh tab: (its console errors, [{src prefix, complete, width}])."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.send(f"{domain}.enable", session)
        self.events.clear()
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired", session)  # after every <img> has loaded or failed
        images = self.send(
            "Runtime.evaluate",
            session,
            expression="Array.from(document.images, i => ({src: i.src.slice(0, 22), "
            "complete: i.complete, width: i.naturalWidth}))",
            returnByValue=True,
        )["result"]["value"]
        errors = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if e.get("sessionId") != session:
                continue
            if method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                errors.append("console." + p["type"] + ": " + str(p["args"]))
            elif method == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                thrown = details.get("exception", {}).get("description", "")
                errors.append(f"exception: {details.get('text', '')} {thrown}")
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                errors.append("log: " + p["entry"]["text"])
        self.send("Target.closeTarget", targetId=target)
        return errors, images

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.out_r)


@pytest.mark.skipif(
    _chromium() is None,
    reason="chromium is not installed (`make chromium` installs Debian's as root with apt-get)",
)
def test_chromium_renders_the_report_with_no_console_errors(report, tmp_path):
    """Open the report in headless Chromium over the DevTools protocol (on a pipe: the simplest
    channel that sees console messages, uncaught exceptions and the browser's own error log,
    which --dump-dom cannot). After the load event, every <img> must be complete with a natural
    width > 0. A control page with a broken image, an external image refused by the same CSP,
    console.error and an uncaught exception first shows that the harness catches each."""
    browser = _DevTools(_chromium(), tmp_path / "profile")
    try:
        control = tmp_path / "control.html"
        csp = "default-src 'none'; img-src data:; script-src 'unsafe-inline'"
        control.write_text(
            f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
            f'content="{csp}"></head><body>'
            f'<img src="{PNG_URI}AAAA" alt="broken">'
            '<img src="https://example.invalid/x.png" alt="external">'
            '<script>console.error("control error"); no_such_function();</script>'
            "</body></html>"
        )
        errors, images = browser.open(control.as_uri())
        text = "\n".join(errors)
        assert "control error" in text
        assert "no_such_function" in text
        assert "Content Security Policy" in text  # the external image was refused, loudly
        assert [i["width"] for i in images] == [0, 0]

        errors, images = browser.open(report.as_uri())
        assert errors == []
        parsed = _images(report.read_text())
        assert len(images) == len(parsed.images) >= 6  # 4 curves + 2 grids at least
        assert all(i["complete"] and i["width"] > 0 for i in images), images
        assert all(i["src"] == PNG_URI for i in images)
    finally:
        browser.close()

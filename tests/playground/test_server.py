"""The playground's server over real HTTP: sessions on server-sent events, requests, errors."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
import torch

from saddlepoint.cli import main
from saddlepoint.playground import panels
from saddlepoint.playground.server import CSP, PlaygroundServer


class Stream:
    """A server-sent-events client: the events of /api/stream, read in a thread."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", "/api/stream")
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"
        self.events: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.id = self.wait(lambda name, value: name == "session")["id"]

    def _read(self) -> None:
        name = None
        try:
            while line := self.response.readline():
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    with self.lock:
                        self.events.append((name, json.loads(line[6:])))
        except (OSError, ValueError, AttributeError):
            pass  # closed

    def wait(self, match: Callable[[str, object], bool], timeout: float = 20.0):
        """The value of the first event (from the start) that `match`es."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for name, value in self.events:
                    if match(name, value):
                        return value
            time.sleep(0.02)
        raise TimeoutError(f"no matching event; saw {[n for n, _ in self.events]}")

    def last(self, name: str):
        with self.lock:
            return [v for n, v in self.events if n == name][-1]

    def close(self) -> None:
        self.response.close()
        self.conn.close()


def request(port, method, path, body=None, headers=None) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    conn.request(method, path, data, headers or {})
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    value = json.loads(raw) if response.getheader("Content-Type") == "application/json" else raw
    return response.status, value, dict(response.getheaders())


@pytest.fixture(scope="module")
def server():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    srv = PlaygroundServer(("127.0.0.1", 0), max_sessions=2)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown_all()
    torch.set_num_threads(threads)


@pytest.fixture
def port(server):
    yield server.server_address[1]
    server.sessions.close_all()


def test_the_page_is_served_with_a_policy_that_keeps_it_offline(port):
    status, page, headers = request(port, "GET", "/")
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    assert b'<script src="/static/playground.js"' in page
    assert b"http://" not in page and b"https://" not in page  # nothing from elsewhere
    status, script, headers = request(port, "GET", "/static/playground.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert (
        b"fetch(`/api/session/" in script and b"http://" not in script and b"https://" not in script
    )
    for path in ("/static/server.py", "/static/../server.py", "/static/.hidden.js", "/nothing"):
        assert request(port, "GET", path)[0] == 404, path


def test_a_stream_is_a_session_that_plays_and_answers(port, server):
    stream = Stream(port)
    sid = stream.id
    data = stream.wait(lambda n, v: n == "data")
    assert data["name"] == "ring8" and data["dim"] == 2 and len(data["modes"]["centres"]) == 8
    assert stream.wait(lambda n, v: n == "control")["playing"] is False
    assert stream.wait(lambda n, v: n == "frame")["it"] == 0
    base = f"/api/session/{sid}"
    status, answer, _ = request(port, "POST", base + "/control", {"action": "play"})
    assert status == 200 and answer["playing"] is True
    stream.wait(lambda n, v: n == "frame" and v["it"] >= 50)
    request(port, "POST", base + "/control", {"action": "pause"})
    stream.wait(lambda n, v: n == "control" and not v["playing"])
    status, numbers, _ = request(port, "GET", base + "/numbers")
    assert status == 200 and numbers["it"] >= 50
    last = stream.last("frame")
    assert numbers == {
        **{k: last[k] for k in ("run", "it", "d_steps", "g_steps", "scalars")},
        **{k: numbers[k] for k in ("divergence", "coverage", "frames")},
    }
    it = numbers["it"]
    # one D step: the counters say so
    request(port, "POST", base + "/control", {"action": "step_d"})
    f = stream.wait(lambda n, v: n == "frame" and v["d_steps"] == it + 1)
    assert f["it"] == it
    # settings: a bad one is refused in a sentence, a good one is applied where it runs
    status, answer, _ = request(port, "POST", base + "/settings", {"lr_d": 5})
    assert status == 400 and answer == {"error": "lr_d must lie between 1e-06 and 1, got 5."}
    status, answer, _ = request(port, "POST", base + "/settings", {"objective": "minimax"})
    assert status == 200 and answer["kept"] == ["G", "D"]
    stream.wait(lambda n, v: n == "control" and v["settings"]["objective"] == "minimax")
    assert stream.wait(lambda n, v: n == "frame" and v["divergence"]["label"].startswith("JSD"))
    # data: a name, a bad name, a drawing, an upload good and bad
    status, answer, _ = request(port, "POST", base + "/data", {"name": "grid25"})
    assert status == 200 and answer["data"] == "grid25"
    stream.wait(lambda n, v: n == "data" and v["name"] == "grid25")
    status, answer, _ = request(port, "POST", base + "/data", {"name": "nope"})
    assert status == 400 and answer["error"].startswith("unknown data 'nope'")
    drawing = {"points": [[0, 0], [1, 1]], "extent": [[-2, 2], [-2, 2]]}
    assert request(port, "POST", base + "/data", drawing)[0] == 200
    stream.wait(lambda n, v: n == "data" and v["name"] == "drawn")
    bad = b"x,y\n1,2\n3,oops\n"
    status, answer, _ = request(port, "POST", base + "/upload", bad, {"X-Filename": "/tmp/b.csv"})
    assert status == 400 and answer["error"] == (
        "b.csv, line 3: 'oops' is not a number; each line must hold one point: x,y (two numbers)"
        " or x (one)."
    )
    good = "\n".join(f"{i % 7},{i % 5}" for i in range(300)).encode()
    status, answer, _ = request(port, "POST", base + "/upload", good, {"X-Filename": "g.csv"})
    assert status == 200 and answer["description"] == "300 points from g.csv"
    assert stream.wait(lambda n, v: n == "data" and v["name"] == "uploaded")["dim"] == 2
    # requests that are not understood
    assert request(port, "POST", base + "/control", {"action": "fly"})[1]["error"].startswith(
        "unknown action 'fly'"
    )
    assert request(port, "POST", base + "/control", b"{not json")[1] == {
        "error": "the request's body is not JSON."
    }
    assert request(port, "POST", base + "/control", {"action": "speed", "value": 0})[0] == 400
    assert request(port, "POST", base + "/explode", {})[0] == 404
    stream.close()


def test_a_closed_stream_ends_its_session(port, server):
    stream = Stream(port)
    assert len(server.sessions) == 1
    request(port, "POST", f"/api/session/{stream.id}/control", {"action": "play"})
    stream.close()
    deadline = time.monotonic() + 10
    while len(server.sessions) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.sessions) == 0
    status, answer, _ = request(port, "GET", f"/api/session/{stream.id}/numbers")
    assert status == 404 and "reload the page" in answer["error"]


def test_sessions_are_separate_and_limited(port, server):
    a, b = Stream(port), Stream(port)
    assert a.id != b.id
    request(port, "POST", f"/api/session/{a.id}/settings", {"objective": "hinge"})
    a.wait(lambda n, v: n == "control" and v["settings"]["objective"] == "hinge")
    assert server.sessions.get(b.id).game.settings.objective == "non_saturating"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/stream")
    body = conn.getresponse().read().decode()  # the refusal, then the stream ends
    assert body.startswith("event: refused\n") and "2 sessions are open already" in body
    assert request(port, "POST", f"/api/session/{a.id}/close")[0] == 200
    assert len(server.sessions) == 1
    a.close()
    b.close()


def test_only_loopback_hosts_and_failures_are_answered(port, monkeypatch):
    status, answer, _ = request(port, "GET", "/", headers={"Host": "evil.example:80"})
    assert status == 403 and answer["error"] == "this playground answers to localhost only."
    assert request(port, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200
    assert request(port, "GET", "/api/ab-game?eta=0.5&steps=20")[0] == 200
    status, answer, _ = request(port, "GET", "/api/ab-game?eta=3")
    assert status == 400 and answer["error"].startswith("eta must lie between")
    assert request(port, "GET", "/api/lambda-divergence?lambda=0.3")[0] == 200

    def broken(query):
        raise RuntimeError("a bug")

    monkeypatch.setattr(panels, "ab_game", broken)
    status, answer, _ = request(port, "GET", "/api/ab-game")
    assert status == 500 and answer["error"] == (
        "internal error (RuntimeError: a bug); the server goes on."
    )
    assert request(port, "GET", "/")[0] == 200  # it did


def test_the_command_serves_until_interrupted(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "saddlepoint", "playground", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("saddlepoint playground: http://127.0.0.1:"), line
        port = int(line.split(":")[3].split("/")[0])
        assert request(port, "GET", "/")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "stopped" in out, err
    finally:
        proc.kill()


def test_bad_command_options(capsys):
    assert main(["playground", "--port", "70000"]) == 2
    assert "--port must lie in 0..65535" in capsys.readouterr().err
    assert main(["playground", "--max-sessions", "0"]) == 2
    assert "--max-sessions must be at least 1" in capsys.readouterr().err

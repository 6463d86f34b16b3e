"""The playground's web server: the standard library's ThreadingHTTPServer, server-sent events.

    GET  /                               the page (static/index.html; its script and style)
    GET  /api/stream                     a new session, then its updates as server-sent
                                         events: session, data, control, message, frame; the
                                         session ends when this stream closes
    GET  /api/session/ID/numbers         the last frame's counters and numbers
    POST /api/session/ID/control         {"action": play|pause|step_d|step_g|reset|speed|slow,
                                          "value": ...}
    POST /api/session/ID/settings        {"name": value, ...}: the changes, checked
    POST /api/session/ID/data            {"name": "ring8"} or {"points": [[x, y], ...],
                                          "extent": [[x0, x1], [y0, y1]]} (drawn)
    POST /api/session/ID/upload          a CSV file's bytes (X-Filename names it)
    POST /api/session/ID/close           end the session now (the page's pagehide)
    GET  /api/ab-game?eta=&steps=&a=&b=  the a*b game panel
    GET  /api/lambda-divergence?lambda=&mu=&sigma=   the lambda-divergence panel

A mistake in a request (a bad setting, a bad file) is answered 400 with {"error": sentence},
an unknown or ended session 404, a failure of the server's own 500 with its cause; the server
goes on in every case. Nothing is fetched from elsewhere: the page is served from the package,
and its Content-Security-Policy lets it load and connect to this server only. Bound to a
loopback address (the default), it answers only requests whose Host is a loopback name, so a
web page elsewhere cannot reach it through DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from saddlepoint.config import PENALTY_NAMES
from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.playground import panels, points, upload
from saddlepoint.playground.session import SPEEDS, Published, Session, Sessions
from saddlepoint.playground.settings import CHOICES, LIVE, RANGES, Settings, update

STATIC = Path(__file__).parent / "static"
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PING = 1.0  # seconds between keep-alive comments on an idle stream (finds closed tabs)
MAX_BODY = 64_000_000  # bytes of a request body read at most
_SESSION = re.compile(r"^/api/session/([A-Za-z0-9_-]+)/([a-z_]+)$")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class PlaygroundServer(ThreadingHTTPServer):
    daemon_threads = True  # a stream's thread never keeps the process alive
    block_on_close = False

    def __init__(self, address: tuple[str, int], max_sessions: int = 4, verbose: bool = False):
        self.sessions = Sessions(max_sessions)
        self.verbose = verbose
        super().__init__(address, Handler)
        self.loopback = _is_loopback(address[0])

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{shown}:{port}/"

    def shutdown_all(self) -> None:
        """End every session (their streams finish), stop serving, free the port."""
        self.sessions.close_all()
        self.shutdown()
        self.server_close()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def choices() -> dict[str, Any]:
    """What the page offers in its menus, with the ranges it checks too."""
    return {
        "objectives": [{"name": n, "description": o.description} for n, o in OBJECTIVES.items()],
        "penalties": list(PENALTY_NAMES),
        "optimisers": list(CHOICES["optimiser"]),
        "priors": list(CHOICES["prior"]),
        "data": [{"name": n, "description": points.describe(n)} for n in points.NAMES],
        "ranges": RANGES,
        "speeds": SPEEDS,
        "live": sorted(LIVE),
        "defaults": Settings().to_dict(),
    }


class Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    server_version = "saddlepoint-playground"

    # ------------------------------------------------------------------ dispatch
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self._answer(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(self._post)

    def _answer(self, route: Callable[[str, dict[str, str]], None]) -> None:
        try:
            self._route(route)
        except (BrokenPipeError, ConnectionResetError):  # the page left while we answered
            pass

    def _route(self, route: Callable[[str, dict[str, str]], None]) -> None:
        url = urlsplit(self.path)
        try:
            if self.server.loopback and not self._loopback_host():
                return self._json({"error": "this playground answers to localhost only."}, 403)
            route(url.path, dict(parse_qsl(url.query)))
        except KeyError:
            ended = "this session has ended (a closed tab ends its session): reload the page."
            self._json({"error": ended}, 404)
        except SaddlepointError as e:
            self._json({"error": str(e)}, 400)
        except (BrokenPipeError, ConnectionResetError):
            raise  # _answer's: not the server's failure
        except Exception as e:  # the server's own failure: said, and the server goes on
            traceback.print_exc(file=sys.stderr)
            failure = f"internal error ({type(e).__name__}: {e}); the server goes on."
            self._json({"error": failure}, 500)

    def _loopback_host(self) -> bool:
        host = self.headers.get("Host", "")
        name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0]
        return name in LOOPBACK_NAMES

    def _get(self, path: str, query: dict[str, str]) -> None:
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path.startswith("/static/"):
            return self._static(path.removeprefix("/static/"))
        if path == "/api/stream":
            return self._stream()
        if path == "/api/ab-game":
            return self._json(panels.ab_game(query))
        if path == "/api/lambda-divergence":
            return self._json(panels.lambda_divergence(query))
        match = _SESSION.match(path)
        if match and match.group(2) == "numbers":
            return self._json(self.server.sessions.get(match.group(1)).numbers())
        self._json({"error": f"no page at {path}"}, 404)

    def _post(self, path: str, query: dict[str, str]) -> None:
        match = _SESSION.match(path)
        if not match:
            return self._json({"error": f"nothing to post to at {path}"}, 404)
        sid, verb = match.groups()
        body = self._body()
        if verb == "close":
            self.server.sessions.end(sid)
            return self._json({"closed": sid})
        session = self.server.sessions.get(sid)
        actions: dict[str, Callable[[Session, bytes], Any]] = {
            "control": _control,
            "settings": _settings,
            "data": _data,
            "upload": lambda s, b: _upload(s, b, self.headers.get("X-Filename", "the file")),
        }
        if verb not in actions:
            return self._json({"error": f"unknown request {verb!r}"}, 404)
        self._json(actions[verb](session, body))

    # ------------------------------------------------------------------ replies
    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", 0))
        except ValueError:
            raise SaddlepointError("the request's Content-Length is not a number.") from None
        if length > MAX_BODY:
            self.close_connection = True
            raise SaddlepointError(
                f"the request is {length:,} bytes; the playground reads up to "
                f"{upload.MAX_BYTES:,}-byte files."
            )
        return self.rfile.read(length) if length > 0 else b""

    def _json(self, value: Any, status: int = 200) -> None:
        data = json.dumps(value, allow_nan=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _static(self, name: str) -> None:
        path = STATIC / name
        if "/" in name or name.startswith(".") or path.suffix not in TYPES or not path.is_file():
            return self._json({"error": f"no file {name}"}, 404)
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", f"{TYPES[path.suffix]}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(data)

    def _event(self, name: str, value: Any) -> None:
        self.wfile.write(f"event: {name}\ndata: {json.dumps(value, allow_nan=False)}\n\n".encode())

    def _stream(self) -> None:
        """A new session, and its updates until the tab goes (or the session is ended)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            session = self.server.sessions.open()
        except SaddlepointError as e:  # the page shows it (a failed stream's body is unread)
            self._event("refused", {"message": str(e)})
            return
        try:
            self._event("session", {"id": session.id, "choices": choices()})
            self._send_updates(session)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass  # the tab went away
        finally:
            self.server.sessions.end(session.id)

    def _send_updates(self, session: Session) -> None:
        sent = Published()
        while not session.closed.is_set():
            out = session.wait(sent.seq, PING)
            if out is None:
                self.wfile.write(b": ping\n\n")  # fails once the tab has gone
                self.wfile.flush()
                continue
            for part in ("data", "control", "message", "frame"):  # the data before its frames
                if getattr(out, f"{part}_seq") > getattr(sent, f"{part}_seq"):
                    self._event(part, getattr(out, part))
            self.wfile.flush()
            sent = out

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        if self.server.verbose:
            super().log_message(format, *args)


# ---------------------------------------------------------------------- the requests' work
def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SaddlepointError("the request's body is not JSON.") from None


def _control(session: Session, body: bytes) -> dict:
    request = _json_body(body)
    if not isinstance(request, dict) or "action" not in request:
        raise SaddlepointError('a control request is {"action": ..., "value": ...}.')
    return session.control(request["action"], request.get("value"))


def _settings(session: Session, body: bytes) -> dict:
    new = update(session.game.settings, _json_body(body))  # checked here, applied there
    kept = session.change_settings(new)
    return {"settings": new.to_dict(), "kept": kept}


def _data(session: Session, body: bytes) -> dict:
    request = _json_body(body)
    if not isinstance(request, dict):
        raise SaddlepointError('a data request is {"name": ...} or {"points": ..., "extent": ...}.')
    if "points" in request:
        made = session.use_points(lambda: points.drawn(request["points"], request.get("extent")))
    else:
        made = session.use_points(lambda: points.named(str(request.get("name"))))
    return {"data": made.name, "description": made.description}


def _upload(session: Session, body: bytes, filename: str) -> dict:
    name = Path(filename).name[:100] or "the file"
    x = upload.parse_csv(body, name)
    made = session.use_points(lambda: points.uploaded(x, name))
    return {"data": made.name, "description": made.description}

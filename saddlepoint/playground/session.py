"""A browser tab's session: one game, trained in its own thread at a bounded rate.

The session's thread owns the game: it alone steps it, changes it and draws frames from it.
Requests from the page become commands (`call`), run by that thread between two frames, and
their answers or errors go back to the request. The thread plays `speed` iterations per frame
and makes at most MAX_FPS frames a second (SLOW_FPS frames of one iteration in slow motion),
sleeping the rest: a tab cannot take more than one core, and a paused one takes none.

Frames are published, not queued: the stream that sends them to the page (server.py) always
takes the newest and skips any it was too slow for, so a slow page never holds up training.
The session ends when its stream closes (the tab was closed) or `close` is called; `Sessions`
keeps at most `limit` of them at once.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from saddlepoint.errors import SaddlepointError
from saddlepoint.playground.frames import FrameBuilder
from saddlepoint.playground.game import Diverged, Game
from saddlepoint.playground.points import Points, named
from saddlepoint.playground.settings import Settings

MAX_FPS = 30.0  # frames a second at most while playing
SLOW_FPS = 4.0  # slow motion: frames of one iteration each
SPEEDS = (1, 100)  # iterations per frame, least and most
DEFAULT_DATA = "ring8"
ANSWER_TIMEOUT = 60.0  # seconds a request waits for the session's thread


@dataclass
class Command:
    """Work for the session's thread, with the answer the request waits for."""

    run: Callable[[], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


@dataclass
class Published:
    """What the stream sends: each part with the sequence number it was last changed at."""

    seq: int = 0
    frame: dict | None = None
    frame_seq: int = 0
    data: dict | None = None
    data_seq: int = 0
    control: dict | None = None  # settings, playing, speed, slow
    control_seq: int = 0
    message: str | None = None  # an error raised while playing (a divergence, a bug)
    message_seq: int = 0


class Session:
    def __init__(self, sid: str, settings: Settings | None = None, data: str = DEFAULT_DATA):
        self.id = sid
        points = named(data)
        self.game = Game(settings or Settings(), points)
        self.frames = FrameBuilder(points)
        self.playing = False
        self.speed = 5  # iterations per frame
        self.slow = False
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.changed = threading.Condition()
        self.out = Published()
        self.closed = threading.Event()
        self.frames_made = 0
        self._publish(data=True, control=True, frame=True)
        self.thread = threading.Thread(target=self._loop, name=f"playground-{sid}", daemon=True)
        self.thread.start()

    # ------------------------------------------------------------ the page's requests
    def call(self, fn: Callable[[], Any]) -> Any:
        """Run fn on the session's thread between frames; its result, or its error raised."""
        if self.closed.is_set():
            raise SaddlepointError("this session has ended: reload the page for a new one.")
        command = Command(fn)
        self.commands.put(command)
        if not command.done.wait(ANSWER_TIMEOUT):
            raise SaddlepointError("the session did not answer in time; try again.")
        if command.error is not None:
            raise command.error
        return command.result

    def control(self, action: str, value: Any = None) -> dict:
        """play, pause, step_d, step_g, reset, speed (iterations per frame), slow (on/off)."""
        actions: dict[str, Callable[[], None]] = {
            "play": lambda: setattr(self, "playing", True),
            "pause": lambda: setattr(self, "playing", False),
            "step_d": self._step(self.game.step_d),
            "step_g": self._step(self.game.step_g),
            "reset": self._reset,
            "speed": lambda: setattr(self, "speed", _speed(value)),
            "slow": lambda: setattr(self, "slow", bool(value)),
        }
        if action not in actions:
            raise SaddlepointError(
                f"unknown action {action!r}; choose one of {', '.join(actions)}."
            )
        self.call(lambda: (actions[action](), self._publish(control=True, frame=True)))
        return self.controls()

    def change_settings(self, settings: Settings) -> list[str]:
        """New settings (already checked); returns the nets whose weights carried over."""

        def change() -> list[str]:
            kept = self.game.change(settings)
            self._publish(control=True, frame=True)
            return kept

        return self.call(change)

    def use_points(self, make: Callable[[], Points]) -> Points:
        """Train on the points `make` returns (built on the session's thread)."""

        def use() -> Points:
            points = make()
            self.game.use_points(points)
            self.frames.use(points)
            self._publish(data=True, control=True, frame=True)
            return points

        return self.call(use)

    def controls(self) -> dict:
        return {
            "settings": self.game.settings.to_dict(),
            "playing": self.playing,
            "speed": self.speed,
            "slow": self.slow,
            "data": self.game.points.name,
        }

    def numbers(self) -> dict:
        """The last published frame's counters and numbers (what the page shows)."""
        with self.changed:
            frame = self.out.frame or {}
        keys = ("run", "it", "d_steps", "g_steps", "scalars", "divergence", "coverage")
        return {k: frame.get(k) for k in keys} | {"frames": self.frames_made}

    def close(self) -> None:
        self.closed.set()
        self.commands.put(Command(lambda: None))  # wake the thread
        with self.changed:
            self.changed.notify_all()

    # ------------------------------------------------------------ the session's thread
    def _step(self, step: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            self.playing = False
            step()

        return run

    def _reset(self) -> None:
        self.game.reset()
        self.playing = False

    def _loop(self) -> None:
        next_frame = time.monotonic()
        while not self.closed.is_set():
            self._run_commands(block=not self.playing)
            if not self.playing or self.closed.is_set():
                continue
            try:
                self.game.play(1 if self.slow else self.speed)
                self._publish(frame=True)
            except Exception as e:  # a divergence or a bug: stop playing, say it on the page
                self.playing = False
                self._publish(control=True, message=_message(e))
                continue
            next_frame = max(
                next_frame + 1 / (SLOW_FPS if self.slow else MAX_FPS), time.monotonic()
            )
            self.closed.wait(max(0.0, next_frame - time.monotonic()))

    def _run_commands(self, block: bool) -> None:
        """Run the queued commands; when paused, wait for the first one."""
        try:
            command = self.commands.get(timeout=1.0) if block else self.commands.get_nowait()
        except queue.Empty:
            return
        while True:
            try:
                command.result = command.run()
            except Exception as e:  # handed to the request that sent it
                command.error = e
                if not isinstance(e, SaddlepointError):
                    traceback.print_exc()
            command.done.set()
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return

    def _publish(
        self,
        *,
        frame: bool = False,
        data: bool = False,
        control: bool = False,
        message: str | None = None,
    ) -> None:
        made = None
        if frame:
            try:
                made = self.frames.frame(self.game)
            except Diverged as e:  # the weights are kept as they are; the page is told
                self.playing = False
                control, message = True, str(e)
        with self.changed:
            out = self.out
            out.seq += 1
            if made is not None:
                out.frame, out.frame_seq = made, out.seq
                self.frames_made += 1
            if data:
                out.data, out.data_seq = self.frames.data_view(), out.seq
            if control:
                out.control, out.control_seq = self.controls(), out.seq
            if message is not None:
                out.message, out.message_seq = message, out.seq
            self.changed.notify_all()

    def wait(self, seen: int, timeout: float) -> Published | None:
        """The published parts once anything newer than `seen` is out (None after timeout, or
        when the session has closed)."""
        with self.changed:
            self.changed.wait_for(lambda: self.out.seq > seen or self.closed.is_set(), timeout)
            if self.closed.is_set() or self.out.seq <= seen:
                return None
            o = self.out
            return Published(**o.__dict__)


def _speed(value: Any) -> int:
    lo, hi = SPEEDS
    try:
        speed = int(value)
    except (TypeError, ValueError):
        raise SaddlepointError(
            f"speed must be a whole number of iterations, not {value!r}."
        ) from None
    if not lo <= speed <= hi:
        raise SaddlepointError(f"speed must lie between {lo} and {hi} iterations a frame.")
    return speed


def _message(e: BaseException) -> str:
    if isinstance(e, SaddlepointError):
        return str(e)
    traceback.print_exception(e)
    return f"internal error while training ({type(e).__name__}: {e}); press reset to go on."


class Sessions:
    """The live sessions by id, at most `limit` at once."""

    def __init__(self, limit: int = 4) -> None:
        self.limit = limit
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self) -> Session:
        with self._lock:
            if len(self._sessions) >= self.limit:
                raise SaddlepointError(
                    f"{self.limit} sessions are open already, the most this server takes: close "
                    "a playground tab (or start it with a larger --max-sessions)."
                )
            sid = secrets.token_urlsafe(9)
            self._sessions[sid] = None  # type: ignore[assignment]  # reserved while it starts
        try:
            session = Session(sid)
        except BaseException:
            with self._lock:
                del self._sessions[sid]
            raise
        with self._lock:
            self._sessions[sid] = session
        return session

    def get(self, sid: str) -> Session:
        with self._lock:
            session = self._sessions.get(sid)
        if session is None:
            raise KeyError(sid)
        return session

    def end(self, sid: str) -> None:
        with self._lock:
            session = self._sessions.pop(sid, None)
        if session is not None:
            session.close()

    def __len__(self) -> int:
        with self._lock:
            return sum(s is not None for s in self._sessions.values())

    def close_all(self) -> None:
        with self._lock:
            ids = [sid for sid, s in self._sessions.items() if s is not None]
        for sid in ids:
            self.end(sid)

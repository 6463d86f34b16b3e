"""`saddlepoint playground`: a local web page to watch and play the game (playground/)."""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_PORT = 8765
DESCRIPTION = """\
Serve the playground page: a GAN on 2-D or 1-D data trained by saddlepoint's own Algorithm 1
(its nets, objectives and loop) while you watch D's decision map, G's gradients and manifold,
the losses and the divergence at the optimal D; plus the a*b game and the lambda-divergence as
interactive panels. Each browser tab gets its own game; nothing is fetched from the network;
Ctrl-C stops it. See docs/playground.md."""
EPILOG = """examples:
  saddlepoint playground                        http://127.0.0.1:8765/, in a browser if any
  saddlepoint playground --port 0 --no-browser  any free port; the address is printed
  saddlepoint playground --host 0.0.0.0         reachable from other machines (no password:
                                                only on a network you trust)

on the page: pick data (a toy density, a shape, draw with the mouse, or upload a CSV of x,y
lines), an objective, k, learning rates, optimiser, network sizes and noise; press play, pause,
step D, step G or reset; toggle the views (points, D's map and D*, G's gradient arrows and
manifold). Without a display the address is printed: open it in any browser that can reach
this machine (e.g. through `ssh -L 8765:127.0.0.1:8765 HOST`).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    pg = sub.add_parser(
        "playground",
        help="watch the game being played in the browser, on the real training loop",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pg.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    pg.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free)",
    )
    pg.add_argument(
        "--no-browser", action="store_true", help="print the address, do not open a browser"
    )
    pg.add_argument(
        "--max-sessions",
        type=int,
        default=4,
        help="browser tabs served at once, each training its own game (default 4)",
    )
    pg.add_argument("--verbose", action="store_true", help="log every request")


def _can_open_browser() -> bool:
    """A graphical browser can be shown: not on a Linux machine without a display, where
    Python's webbrowser would fall back to a text browser in this terminal."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run(args: argparse.Namespace) -> int:
    import torch

    from saddlepoint.commands.args import positive
    from saddlepoint.errors import SaddlepointError
    from saddlepoint.playground.server import PlaygroundServer

    if not 0 <= args.port <= 65535:
        raise SaddlepointError(f"--port must lie in 0..65535 (0 = any free port), got {args.port}.")
    positive(args.max_sessions, "--max-sessions")
    torch.set_num_threads(1)  # each session trains in its own thread, one core at most
    try:
        server = PlaygroundServer((args.host, args.port), args.max_sessions, args.verbose)
    except OSError as e:
        raise SaddlepointError(
            f"cannot listen on {args.host}:{args.port} ({e.strerror or e}): choose another "
            "--port (0 = any free port) or --host."
        ) from None
    print(f"saddlepoint playground: {server.url}  (Ctrl-C stops it)", flush=True)
    if not args.no_browser and _can_open_browser():
        import webbrowser

        if not webbrowser.open(server.url):
            print("no browser could be opened: open the address above yourself.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("saddlepoint playground: stopped", flush=True)
    finally:
        server.sessions.close_all()
        server.server_close()
    return 0

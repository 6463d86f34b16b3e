"""The playground in a real browser: its update rate, and the screenshots of docs/playground.md.

    .venv/bin/python benchmarks/playground_browser.py rate [--runs 3] [--seconds 5]
    .venv/bin/python benchmarks/playground_browser.py screenshots [--out docs/figures]

Both start the playground's server in this process (one training thread per session, torch on
one thread, as `saddlepoint playground` runs it) and drive Debian's headless Chromium with
Playwright, as tests/playground/test_browser.py does.

rate: for each run a fresh tab (a fresh session) on the default 2-D ring (ring8, the default
settings, 5 iterations per update), play, let 2 s pass, then count the frames the page itself
received (window.playground.framesSeen) over --seconds. Writes results/playground-rate-cpu.json
with the CPU it ran on (lscpu) and the load average before each run.

screenshots: the main views, each a PNG under --out (palette-quantised to stay small):
playground-ring.png, playground-figure1.png, playground-grid-dstar.png, playground-panels.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch
from PIL import Image
from playwright.sync_api import sync_playwright

from saddlepoint.playground.server import PlaygroundServer

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
RESULTS = Path(__file__).parent / "results" / "playground-rate-cpu.json"


def wait(page, expression: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(expression)


def cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs"


def rate(page_url: str, browser, seconds: float) -> dict:
    page = browser.new_page()
    page.goto(page_url)
    wait(page, "window.playground.frame !== null")
    page.click("#play")
    time.sleep(2.0)
    frames0, it0, t0 = (
        page.evaluate("window.playground.framesSeen"),
        page.evaluate("window.playground.frame.it"),
        time.monotonic(),
    )
    time.sleep(seconds)
    frames1, it1, t1 = (
        page.evaluate("window.playground.framesSeen"),
        page.evaluate("window.playground.frame.it"),
        time.monotonic(),
    )
    page.close()
    return {
        "updates_per_s": round((frames1 - frames0) / (t1 - t0), 2),
        "iterations_per_s": round((it1 - it0) / (t1 - t0), 1),
        "seconds": round(t1 - t0, 2),
        "load_average_1min_before": os.getloadavg()[0],
    }


def control(page, action: str, value=None) -> None:
    page.evaluate(
        "([a, v]) => fetch(`/api/session/${window.playground.id}/control`, {method: 'POST', "
        "body: JSON.stringify({action: a, value: v})})",
        [action, value],
    )


def shoot(page, path: Path, clip: dict) -> None:
    page.screenshot(path=str(path), clip=clip, full_page=True)  # clip may lie below the fold
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def screenshots(page_url: str, browser, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1500})
    page.goto(page_url)
    wait(page, "window.playground.frame !== null")
    top = {"x": 0, "y": 0, "width": 1280, "height": 790}
    control(page, "speed", 40)
    page.click("#play")
    wait(page, "window.playground.frame.it >= 4000")
    page.click("#pause")
    time.sleep(0.5)
    shoot(page, out / "playground-ring.png", top)

    page.select_option("#data", "gaussian1d")
    page.fill("#setting-z-dim", "1")
    page.dispatch_event("#setting-z-dim", "change")
    wait(page, "window.playground.control.settings.z_dim === 1")
    page.click("#reset")
    control(page, "speed", 2)
    page.check("[data-layer=dstar]")
    page.click("#play")
    wait(page, "window.playground.frame.it >= 150")
    page.click("#pause")
    time.sleep(0.5)
    shoot(page, out / "playground-figure1.png", top)

    page.fill("#setting-z-dim", "2")
    page.dispatch_event("#setting-z-dim", "change")
    page.select_option("#data", "grid25")
    wait(page, "window.playground.data.name === 'grid25'")
    page.click("#reset")
    control(page, "speed", 40)
    page.uncheck("[data-layer=heat]")
    page.click("#play")
    wait(page, "window.playground.frame.it >= 3000")
    page.click("#pause")
    time.sleep(0.5)
    shoot(page, out / "playground-grid-dstar.png", top)

    page.evaluate(
        "(() => { const s = document.getElementById('lambda'); s.value = '0.9';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    time.sleep(1.0)
    box = page.locator("#panels").bounding_box()
    shoot(page, out / "playground-panels.png", box)
    page.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("rate", "screenshots"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--out", type=Path, default=Path("docs/figures"))
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = p.parse_args()
    torch.set_num_threads(1)
    server = PlaygroundServer(("127.0.0.1", 0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
            if args.what == "screenshots":
                screenshots(server.url, browser, args.out)
                return 0
            runs = [rate(server.url, browser, args.seconds) for _ in range(args.runs)]
            browser.close()
    finally:
        server.shutdown_all()
    for i, r in enumerate(runs, 1):
        print(
            f"run {i}: {r['updates_per_s']:.1f} updates/s, {r['iterations_per_s']:.0f} it/s "
            f"(load average {r['load_average_1min_before']:.2f} before)"
        )
    record = {
        "benchmark": "playground update rate seen by the page (ring8, default settings)",
        "command": "benchmarks/playground_browser.py rate " + " ".join(sys.argv[2:]),
        "cpu": cpu(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "runs": runs,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

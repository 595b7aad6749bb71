"""The lab's frame rate and how much of its headless speed training keeps while the page watches.

    .venv/bin/python benchmarks/lab_speed.py                  # the seed's game and the ring recipe
    .venv/bin/python benchmarks/lab_speed.py --seconds 5      # a quicker look

For each game, in one invocation: (1) headless, the same Session played flat out with no page (the
engine's rate in the lab's loop), and `train` of the same config for the same epochs (the rate `ganfit
train` reports); (2) live, the real server (uvicorn, in a thread) and a WebSocket client that reads
every frame as a page would (in a second process, as a browser is), playing at the page's "max" speed:
frames a second received, and epochs a second trained. The ratio is live / headless, measured here;
headless and live windows alternate (--repeats times) and each figure is the median, so that a machine
whose load changes meanwhile (a shared one) weighs on both alike.

    .venv/bin/python benchmarks/lab_speed.py --browser       # the page itself, in Debian's Chromium

With --browser the page is the real one in headless Chromium (Playwright, /usr/bin/chromium), sharing
the machine's cores with the server as a learner's browser does: frames a second are frames the page
drew (lab.js counts its redraws), epochs a second the counter it shows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ganfit import Config, recipes
from ganfit.lab.server import Background, Lab
from ganfit.lab.session import Session
from ganfit.training import train

CLIENT = """
import json, sys, time
from websockets.sync.client import connect
url, seconds = sys.argv[1], float(sys.argv[2])
with connect(url, max_size=None) as ws:
    m = None
    while m is None or m["type"] != "frame":
        m = json.loads(ws.recv())
    ws.send(json.dumps({"cmd": "play"}))
    frames, first, t0 = 0, None, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        m = json.loads(ws.recv())
        if m["type"] == "frame" and m["running"]:
            frames += 1
            first = m["epoch"] if first is None else first
            last = m["epoch"]
    dt = time.perf_counter() - t0
    print(json.dumps({"frames_per_s": frames / dt, "epochs_per_s": (last - first) / dt, "epochs": last}))
"""


def headless(config: Config, seconds: float) -> tuple[float, int]:
    s = Session(config)
    s.play(50)  # warm-up: the first log row, the kernel's first call
    t0, n0 = time.perf_counter(), s.epoch
    while time.perf_counter() - t0 < seconds and not s.finished:
        s.play(512)
    rate = (s.epoch - n0) / (time.perf_counter() - t0)
    s.close()
    return rate, s.epoch


def live(config: Config, seconds: float) -> dict:
    served = Background(Lab(config, Path("/tmp")))
    url = served.url.replace("http://", "ws://").replace("/?token=", "/ws?token=")
    out = subprocess.run([sys.executable, "-c", CLIENT, url, str(seconds)], capture_output=True, text=True, check=True)
    served.close()
    return json.loads(out.stdout)


def live_browser(config: Config, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    served = Background(Lab(config, Path("/tmp")))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=flags)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(served.url)
        page.wait_for_function("window.lab && window.lab.frame !== null", timeout=60_000)
        page.click("#play")
        time.sleep(1.0)  # past the first frames and the kernel's first call
        look = "[window.lab.drawn, window.lab.frame.epoch, performance.now()]"
        (d0, e0, t0), _ = page.evaluate(look), time.sleep(seconds)
        d1, e1, t1 = page.evaluate(look)
        browser.close()
    served.close()
    dt = (t1 - t0) / 1000
    return {"frames_per_s": (d1 - d0) / dt, "epochs_per_s": (e1 - e0) / dt, "epochs": e1}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--browser", action="store_true", help="the real page in Debian's Chromium, not a client")
    args = p.parse_args()
    watch = live_browser if args.browser else live
    games = {"seed (K = 1)": Config(epochs=10**7, log_every=200), "ring recipe (K = 10)": recipes.load("ring")}
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[0]}", flush=True)
    for name, config in games.items():
        config = config.replace(epochs=max(config.epochs, 10**6))  # never finishes within the window
        rates, lives = [], []
        for _ in range(args.repeats):
            rates.append(headless(config, args.seconds)[0])
            lives.append(watch(config, args.seconds))
        rate = statistics.median(rates)
        n = max(200, int(rate * args.seconds / 2))
        t0 = time.perf_counter()
        train(config.replace(epochs=n), progress=None)
        trained = n / (time.perf_counter() - t0)
        epochs = statistics.median(x["epochs_per_s"] for x in lives)
        fps = statistics.median(x["frames_per_s"] for x in lives)
        print(
            f"{name}: headless {rate:,.0f} epochs/s (train: {trained:,.0f}); live {epochs:,.0f} epochs/s"
            f" = {epochs / rate:.0%} of headless, {fps:.1f} frames/s {'drawn by Chromium ' if args.browser else ''}"
            f"(medians of {args.repeats})",
            flush=True,
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[0]}")


if __name__ == "__main__":
    main()

"""docs/img/lab.png: the lab's page in Debian's Chromium (Playwright), a 2-D ring of 8 with a per-sample D,
4 members, after a few seconds of play.

    .venv/bin/python benchmarks/lab_screenshot.py
"""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from ganfit import Config
from ganfit.lab.server import Background, Lab

ROOT = Path(__file__).resolve().parents[1]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    config = Config(
        target="ring",
        noise="normal:dim=2",
        d_view="sample",
        loss="ns",
        r1=0.1,
        g_hidden=64,
        d_hidden=64,
        g_activations="relu,relu",
        d_activations="leaky_relu,leaky_relu",
        batch=128,
        lr_d=1e-3,
        lr_g=2e-4,
        beta1=0.5,
        seeds=4,
        epochs=20000,
        log_every=200,
        eval_samples=2000,
        normalize=False,
    )
    served = Background(Lab(config, Path("/tmp/ganfit-lab-shot")))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1240, "height": 1000})
        page.goto(served.url)
        page.wait_for_function("window.lab && window.lab.frame !== null", timeout=60_000)
        page.check("#show-warp")
        page.check("#show-arrows")
        page.click("#play")
        played = "+document.getElementById('epoch').textContent.replace(/,/g, '') > 3000"
        page.wait_for_function(played, timeout=300_000)
        page.click("#play")
        time.sleep(1)
        out = ROOT / "docs" / "img" / "lab.png"
        page.screenshot(path=str(out))
        print(f"wrote {out}")
        browser.close()
    served.close()


if __name__ == "__main__":
    main()

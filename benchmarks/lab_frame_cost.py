"""What one live frame of the lab costs to make and how many bytes it sends, with and without the
members' small multiples (refreshed 5 times a second), on the ring recipe's game (K = 10).

    .venv/bin/python benchmarks/lab_frame_cost.py [--recipe ring] [--frames 60]

The driver's own `_frame` runs by hand (no thread, no socket): between frames the session plays 5 epochs
and the page takes 30 ms to draw, as at the page's "max" speed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import torch

from ganfit import recipes
from ganfit.lab import driver, frames
from ganfit.lab.session import Session


class Timed(driver.Driver):
    def __init__(self, session: Session):  # the driver's state without its thread
        self.session, self.running, self.ready = session, True, threading.Event()
        self.frame_cost, self.shown, self.members_at, self.snaps_sent = 0.0, (), -1e9, 0
        self.layers = dict.fromkeys(driver.LAYERS, False)
        self.last = ""
        self.send = lambda text: setattr(self, "last", text)
        cap = session.live
        arrays = {k: v.float().cpu().numpy() for k, v in cap.take(False).items()}
        self.view_setup, self.pdf = frames.setup(cap.meta(), cap.fixed(), session.game.target, arrays), None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipe", default="ring")
    p.add_argument("--frames", type=int, default=60)
    a = p.parse_args()
    s = Session(recipes.load(a.recipe))
    torch.set_num_threads(s.config.threads)
    d = Timed(s)
    seen: dict[bool, list[tuple[float, int]]] = {True: [], False: []}
    for _ in range(a.frames):
        s.play(5)
        d.ready.set()
        started = time.perf_counter()
        d._frame()
        cost = time.perf_counter() - started
        seen["members" in json.loads(d.last)].append((cost * 1e3, len(d.last)))
        time.sleep(0.03)
    for with_members, rows in seen.items():
        if rows:
            ms, size = (statistics.median(r[i] for r in rows) for i in (0, 1))
            what = "with the members' samples" if with_members else "without them"
            print(f"{a.recipe}: {len(rows)} frames {what}: median {ms:.1f} ms, {size / 1e3:.1f} KB")


if __name__ == "__main__":
    main()

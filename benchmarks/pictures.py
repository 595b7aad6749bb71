"""What do the pictures cost? The same run with pictures and TensorBoard off, then on, interleaved.

    .venv/bin/python benchmarks/pictures.py                       # the article's GAN, 10,000 epochs, 3 pairs
    .venv/bin/python benchmarks/pictures.py --seeds 8 --epochs 5000 --pairs 2

Each pair trains the same config twice in this process (off, then on, alternating which goes first), and
prints two ratios of wall times (on / off), medians over the pairs:
- training: the training loop's own wall time (summary.json's wall_seconds): the snapshots taken at log
  rows from device buffers, and TensorBoard's records;
- end to end: the whole train() call, which with pictures also draws the PNGs and the GIF at the end.
On a shared machine these ratios carry the noise of two separate runs, so the "on" runs also time the
hook itself (Snapshots.take_frame and write_row at log rows; at the end Snapshots.finish and the drawing
of what only pictures add: the panels, curves.png and the GIF) and print it
as a fraction of their own training loop: a figure that other processes on the machine barely move.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ganfit import Config, train
from ganfit.pictures import animate, figures, painter
from ganfit.pictures.hook import Snapshots

SPENT = {"take": 0.0, "finish": 0.0}


def timed(name, f):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            SPENT[name] += time.perf_counter() - start

    return wrapper


Snapshots.take_frame = timed("take", Snapshots.take_frame)
Snapshots.write_row = timed("take", Snapshots.write_row)
Snapshots.finish = timed("finish", Snapshots.finish)
# looked up at call time by figures.run_pictures; moments.png and histogram.png, which every run draws, are not timed
figures.panel_figures = timed("finish", figures.panel_figures)
figures.curves = timed("finish", figures.curves)
painter.collect = timed("finish", painter.collect)
animate.evolution = timed("finish", animate.evolution)


def once(config: Config, out: Path) -> tuple[float, float]:
    start = time.perf_counter()
    run = train(config, out)
    return run.summary["wall_seconds"], time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10_000)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--no-tensorboard", action="store_true", help="pictures only (TensorBoard off in both)")
    args = p.parse_args()
    torch.set_num_threads(1)
    base = Config(seeds=args.seeds, epochs=args.epochs)
    on = base.replace(pictures=True, tensorboard=not args.no_tensorboard)
    ratios_train, ratios_all, hook, drawing = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.pairs):
            order = [("off", base), ("on", on)] if i % 2 == 0 else [("on", on), ("off", base)]
            got = {}
            for name, cfg in order:
                SPENT.update(take=0.0, finish=0.0)
                got[name] = once(cfg, Path(tmp) / f"{name}{i}")
                if name == "on":
                    spent = dict(SPENT)
            (t_off, a_off), (t_on, a_on) = got["off"], got["on"]
            hook.append(spent["take"] / (t_on - spent["take"]))
            drawing.append(spent["finish"] / t_on)
            ratios_train.append(t_on / t_off)
            ratios_all.append(a_on / a_off)
            print(
                f"pair {i}: training {t_off:.2f} s off, {t_on:.2f} s on ({t_on / t_off:.3f}x); "
                f"end to end {a_off:.2f} s off, {a_on:.2f} s on ({a_on / a_off:.3f}x); in the 'on' run: "
                f"{spent['take']:.3f} s in the hook at log rows (+{hook[-1]:.1%} of the rest of its loop), "
                f"{spent['finish']:.2f} s drawing at the end (+{drawing[-1]:.1%} of its loop)",
                flush=True,
            )
    print(
        f"K={args.seeds}, {args.epochs} epochs, log_every={base.log_every}: median ratio on/off "
        f"training {statistics.median(ratios_train):.3f}, end to end {statistics.median(ratios_all):.3f}; "
        f"hook +{statistics.median(hook):.1%}, drawing +{statistics.median(drawing):.1%} (medians)"
    )


if __name__ == "__main__":
    main()

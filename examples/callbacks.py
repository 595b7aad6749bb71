"""Watch a run from Python and stop it when it is good enough: callbacks at every metric row.

    .venv/bin/python examples/callbacks.py            # the article's game, 16 seeds, stopped when 12 learned

A callback is called with a ganfit.metric_log.LogRow at each metric row (epoch, metrics per member,
the members' samples, the history so far, the config, the target, the run directory), beside training:
never inside the step, so training reads nothing back for it. One that returns True stops the run,
which ends as an interrupted one does: checkpointed, and `ganfit train --resume` goes on from there.
"""

import argparse

import numpy as np

import ganfit


class StopWhenLearned:
    """Stop once `enough` members have learned (the article's test)."""

    def __init__(self, enough: int):
        self.enough, self.seen = enough, []

    def __call__(self, row) -> bool:
        learned = int(np.sum(row.metrics["learned"]))
        self.seen.append((row.epoch, learned, float(np.median(row.metrics["ks"]))))
        print(f"epoch {row.epoch:>6}: {learned}/{len(row.metrics['ks'])} learned, median KS {self.seen[-1][2]:.3f}")
        return learned >= self.enough


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--enough", type=int, default=12)
    p.add_argument("--epochs", type=int, default=30_000)
    args = p.parse_args()
    stop = StopWhenLearned(args.enough)
    config = ganfit.Config(seeds=args.seeds, epochs=args.epochs, log_every=1000)
    run = ganfit.train(config, callbacks=[stop], progress=None)
    s = run.summary
    print(f"{s['status']} after {s['epochs']} of {args.epochs} epochs: {s['learned']}/{s['members_total']} learned")


if __name__ == "__main__":
    main()

"""Where each one-hot code of an InfoGAN screen's members puts its samples (5th, 50th, 95th percentile of
4,000 draws per member, in the data's units; * the chosen member), from a kept run of infogan.patch.

    PYTHONPATH=WORKTREE/src python codes.py KEPT_RUN_DIR
"""

import sys

import numpy as np

from ganfit.run import load

CODES = 8


def main() -> None:
    run = load(sys.argv[1])
    for m in range(run.members):
        z = run.noise(4000, 0, m)
        x = run.generator(m, plain=True)(z).detach().numpy()[:, 0]
        code = z[:, -CODES:].argmax(1).numpy()
        spread = [np.percentile(x[code == k], [5, 50, 95]).round(2).tolist() for k in range(CODES)]
        print(m, "*" if m == run.best_member else " ", spread)


if __name__ == "__main__":
    main()

"""A screen: every fit with the D-guided step's critics trained on minibatches of BATCH real and BATCH fake
rows instead of sampler.CRITIC_BATCH (512), the same steps: half the critics' arithmetic at 256. One JSON
line per set and split, to compare with the defaults' twenty splits (`paired20.py`).

    python critic_batch.py 256 0:10 OUT.jsonl          # splits 0-9, all eight sets
"""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

from ganfit import sampler  # noqa: E402


def main() -> None:
    sampler.CRITIC_BATCH = int(sys.argv[1])  # fit_critic reads it at each call
    first, n = map(int, sys.argv[2].split(":"))
    keep = Path(tempfile.mkdtemp())
    for name in RD.SETS:
        for s in range(first, first + n):
            r = RD.one(name, s, keep)
            r.pop("validation", None)
            with open(sys.argv[3], "a") as fh:
                fh.write(json.dumps(r) + "\n")
            print(name, s, round(r["wall"], 1), round(r["scores"]["ganfit"], 4), r["sampler"], r["critic"], flush=True)


if __name__ == "__main__":
    main()

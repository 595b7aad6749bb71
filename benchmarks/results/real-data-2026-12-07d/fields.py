"""A screen: `ganfit fit` on the real sets with config fields over the recipe's (as real_data.py
--field, but with typed JSON values), one JSON line per set and split.

    FIELDS='{"g_monotone": true, "g_activations": "tanh,tanh", "lr_g": 3e-4}' KEEP=DIR \
        python fields.py quakes-depth,rivers 0:5 OUT.jsonl          # splits 0-4
"""

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

SHOW = ("ganfit", "plain", "cv", "isj", "mixture")


def main() -> None:
    sets, (first, n), out = sys.argv[1].split(","), map(int, sys.argv[2].split(":")), sys.argv[3]
    fields = json.loads(os.environ.get("FIELDS", "{}"))
    keep = Path(os.environ.get("KEEP") or tempfile.mkdtemp())
    for name in sets:
        for s in range(first, first + n):
            r = RD.one(name, s, keep, fields=fields)
            r.pop("validation", None)
            with open(out, "a") as fh:
                fh.write(json.dumps(r) + "\n")
            shown = {k: round(v, 4) for k, v in r["scores"].items() if k in SHOW}
            print(name, s, round(r["wall"], 1), r["epochs"], shown, flush=True)


if __name__ == "__main__":
    main()

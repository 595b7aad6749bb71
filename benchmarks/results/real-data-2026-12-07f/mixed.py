"""A mixed ensemble, offline: members 0-2 of a fit with the defaults (ELU G) and members 3-5 of the same
split's fit with a ReLU G (`g_activations = "relu,relu"`; member i has seed + i in both, so together they
are the six members a mixed ensemble would train), the member chosen by fit's rank rule over the union,
then fit's own steps after training (critic, kernel, comparison) on the run that holds it.
`--all` takes all twelve members instead.

    python mixed.py /tmp/keep-elu /tmp/keep-relu quakes-depth,rivers 0:20 OUT.jsonl [--all]
"""

import json
import sys
from pathlib import Path

from ganfit import fitting
from ganfit.run import load


def one(elu_dir: Path, relu_dir: Path, name: str, s: int, everything: bool) -> dict:
    runs = [load(elu_dir / f"{name}-split{s}"), load(relu_dir / f"{name}-split{s}")]
    k = runs[0].members
    pool = [(0, m) for m in range(k)] + [(1, m) for m in range(k)]
    if not everything:
        pool = [(0, m) for m in range(k // 2)] + [(1, m) for m in range(k // 2, k)]
    table = [runs[r].summary["members"][m] for r, m in pool]
    info = runs[0].summary["split"]
    order = fitting.ranking(table, info["chosen_by"], 1)
    owner, member = pool[order[0]]
    run = runs[owner]
    fitting.choose = lambda *_: member  # fit's steps after training on the member the union chose
    run = fitting.conclude_saved(run)
    rows = {r["key"]: r[run.summary["comparison"]["metric"]] for r in run.summary["comparison"]["rows"]}
    return {
        "set": name,
        "split": s,
        "g": ("elu", "relu")[owner],
        "member": member,
        "scores": rows,
        "sampler": run.summary["sampler"]["kind"],
        "factor": run.summary["sampler"]["smoothing"]["factor"],
    }


def main() -> None:
    elu, relu, sets, (first, n), out = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        sys.argv[3].split(","),
        map(int, sys.argv[4].split(":")),
        sys.argv[5],
    )
    for name in sets:
        for s in range(first, first + n):
            r = one(elu, relu, name, s, "--all" in sys.argv)
            with open(out, "a") as fh:
                fh.write(json.dumps(r) + "\n")
            print(name, s, r["g"], r["member"], round(r["scores"]["ganfit"], 4), flush=True)


if __name__ == "__main__":
    main()

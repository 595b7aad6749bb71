"""The mixed ensemble of mixed.py (members 0-2 with ELU's G, 3-5 with ReLU's), but each family's best
member by fit's rank rule taken through fit's steps after training (critic, kernel), and the family whose
finished sampler scores lower on validation kept: by its KS (`ks`), or by the sum of its ranks over KS
and W1 (`rank`, ties: KS).

    python after.py /tmp/keep-elu /tmp/keep-relu quakes-depth,rivers 0:20 OUT.jsonl
"""

import json
import sys
from pathlib import Path

from ganfit import fitting
from ganfit.run import load

ORIGINAL = fitting.choose


def finished(run, members: range, by: str) -> tuple[dict, dict]:
    """(the test scores, the validation scores) of fit's sampler on the best of `members`."""
    table = [run.summary["members"][m] for m in members]
    member = members[fitting.ranking(table, by, 1)[0]]
    fitting.choose = lambda *_: member
    run = fitting.conclude_saved(run)
    comp, s = run.summary["comparison"], run.summary["sampler"]
    val = s["smoothing"]["validation"][str(s["smoothing"]["factor"])]
    return {r["key"]: r[comp["metric"]] for r in comp["rows"]}, val | {"member": member}


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
            runs = {"elu": load(elu / f"{name}-split{s}"), "relu": load(relu / f"{name}-split{s}")}
            k, by = runs["elu"].members, runs["elu"].summary["split"]["chosen_by"]
            got = {
                "elu": finished(runs["elu"], range(k // 2), by),
                "relu": finished(runs["relu"], range(k // 2, k), by),
            }
            ks = min(got, key=lambda g: got[g][1]["val_ks"])
            ranks = {
                g: sum(sorted(v[1][m] for v in got.values()).index(got[g][1][m]) for m in ("val_ks", "val_w1"))
                for g in got
            }
            rank = min(got, key=lambda g: (ranks[g], got[g][1]["val_ks"]))
            r = {
                "set": name,
                "split": s,
                "families": {g: {"test": v[0]["ganfit"], "val": v[1]} for g, v in got.items()},
                "by_ks": ks,
                "by_rank": rank,
            }
            with open(out, "a") as fh:
                fh.write(json.dumps(r) + "\n")
            print(name, s, ks, rank, {g: round(v[0]["ganfit"], 4) for g, v in got.items()}, flush=True)


if __name__ == "__main__":
    main()

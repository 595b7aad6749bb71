"""A sweep's tables: results.csv (one row per member), points.csv (one row per point), the best points.

A point's result is what its task returned: {"id", "status", "summary" (its summary.json), "error",
"wall"}. A point not yet run, or one that raised, still has one row per member in results.csv (status
`pending` or `error`), so the file always holds points x seeds rows.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GanfitError
from ..files import atomic_write, io_reason
from .criteria import succeeded
from .file import Sweep, value_text

RESULTS, POINTS_CSV = "results.csv", "points.csv"
Z95 = 1.959963984540054
MEMBER_KEYS = ("member", "seed", "status", "status_epoch")


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials (NaN, NaN when n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p, z2 = k / n, z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Results:
    """Every point's latest result, in the sweep's point order."""

    def __init__(self, sweep: Sweep, out: Path):
        self.sweep, self.out = sweep, out
        self.by_id: dict[str, dict] = {}

    def add(self, result: dict) -> None:
        self.by_id[result["id"]] = result  # one entry per point: a rerun task replaces, never duplicates

    def members(self, result: dict | None) -> list[dict]:
        return list(((result or {}).get("summary") or {}).get("members") or [])

    def metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for n in self.sweep.criterion.names:
            names[n] = None
        for r in self.by_id.values():
            for m in self.members(r):
                for k, v in m.items():
                    if k not in MEMBER_KEYS and not isinstance(v, (list, dict)):
                        names[k] = None
        order = ["learned"] + sorted(self.sweep.criterion.names)
        known = [n for n in order if n in names]
        return known + [n for n in names if n not in known]

    def member_rows(self) -> list[dict]:
        rows, metrics = [], self.metric_names()
        for p in self.sweep.points:
            r = self.by_id.get(p.id)
            members = self.members(r)
            point_status = (r or {}).get("status", "pending")
            if not members:  # not run, or raised: one row per seed all the same
                c = p.config
                members = [{"member": i, "seed": s, "status": point_status} for i, s in enumerate(c.member_seeds())]
            for m in members:
                row = {"point": p.id, "member": m.get("member"), "seed": m.get("seed")}
                row |= {a: value_text(p.values[a]) for a in self.sweep.axes}
                row |= {"point_status": point_status, "status": m.get("status")}
                row["success"] = succeeded(self.sweep.criterion, m) if r and r.get("summary") else ""
                row |= {n: m.get(n) for n in metrics}
                row |= {"status_epoch": m.get("status_epoch"), "error": (r or {}).get("error", "")}
                rows.append(row)
        return rows

    def point_rows(self) -> list[dict]:
        rows, metrics = [], [n for n in self.metric_names() if n != "learned"]
        for p in self.sweep.points:
            r = self.by_id.get(p.id) or {}
            members = self.members(r)
            k = sum(succeeded(self.sweep.criterion, m) for m in members)
            n = len(members)
            lo, hi = wilson(k, n)
            row = {"point": p.id} | {a: value_text(p.values[a]) for a in self.sweep.axes}
            row |= {
                "status": r.get("status", "pending"),
                "members": n,
                "successes": k,
                "rate": k / n if n else None,
                "ci_low": lo,
                "ci_high": hi,
                "diverged": sum(m.get("status") == "diverged" for m in members),
            }
            for name in metrics:
                xs = [m.get(name) for m in members]
                xs = [float(x) for x in xs if isinstance(x, (int, float)) and x is not None and math.isfinite(x)]
                row[f"median_{name}"] = float(np.median(xs)) if xs else None
            row |= {"wall_seconds": r.get("wall"), "error": r.get("error", ""), "dir": f"points/{p.id}"}
            rows.append(row)
        return rows

    def write(self) -> None:
        """results.csv and points.csv, each written atomically (a full disk is one line, not a traceback)."""
        try:
            for name, rows in ((RESULTS, self.member_rows()), (POINTS_CSV, self.point_rows())):
                write_csv(self.out / name, rows)
        except OSError as e:
            raise GanfitError(f"cannot write the sweep's tables in {self.out}: {io_reason(e)}") from None

    def best(self, n: int = 5) -> list[dict]:
        rows = [r for r in self.point_rows() if r["members"]]
        key_metric = next(iter(sorted(self.sweep.criterion.names)), None)
        med = f"median_{key_metric}"

        def key(r):
            m = r.get(med)
            return (-r["rate"], -r["ci_low"], m if isinstance(m, float) else math.inf)

        return sorted(rows, key=key)[:n]

    def best_lines(self, n: int = 5) -> list[str]:
        best = self.best(n)
        if not best:
            return ["no point finished: no best points"]
        lines = [f"best points by success rate ({self.sweep.criterion.text}; 95% Wilson interval):"]
        width = max(len(r["point"]) for r in best)
        for r in best:
            line = (
                f"  {r['point']:<{width}}  {r['successes']:>3}/{r['members']:<3} {r['rate']:.2f}"
                f"  [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
            )
            for name in sorted(self.sweep.criterion.names):
                v = r.get(f"median_{name}")
                if isinstance(v, float):
                    line += f"  median {name} {v:.4g}"
            lines.append(line)
        return lines


def write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))

    def write(tmp):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            for row in rows:
                w.writerow([cell(row.get(c)) for c in columns])

    atomic_write(path, write)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))

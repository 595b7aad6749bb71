"""`ganfit report DIR`: one self-contained HTML file for a run directory, or for a directory of runs.

The page embeds every picture as a data: URI and carries its own CSS and a few lines of inline script
(sortable tables, and marking each image as loaded); a Content-Security-Policy forbids any network
access. Every string that comes from the user or the file system (run names, paths, spec strings,
column names, config values, summary keys) is HTML-escaped.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import html
import io
import math
import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from ..config import Config
from ..errors import GanfitError
from ..files import io_reason, write_text
from ..game.targets import make_target
from ..measure.metrics import shown
from ..rundir import weights
from ..rundir.layout import CONFIG, METRICS, REPORT, REPORT_MARK, is_report, read_metrics, read_summary
from . import figures
from .capture import capture_once

# (file, caption) in reading order; whatever else a run holds as .png / .gif follows, by name
PICTURES = [
    (
        "fit.png",
        "ganfit fit: the best member's samples, the KDE's and the mixture's over the train and validation parts.",
    ),
    ("evolution.gif", "The game through training, member 0 (one frame per snapshot)."),
    ("distribution.png", "Member 0's fake density and CDF over the target's; earlier epochs grey."),
    ("field.png", "D's output as a heat map, real and fake points, and where G's loss pushes each fake point."),
    ("discriminator.png", "What D says: D(x) beside the optimal D*, or D's verdict on real and fake batches."),
    ("generator.png", "G's map z ↦ G(z) beside the optimal monotone transport map; earlier epochs grey."),
    ("warp.png", "G's warped noise grid."),
    ("curves.png", "Losses and every metric over epochs: members faint, member 0 bold, median dashed."),
    ("moments.png", "Over epochs: generated mean and std (1-D, the article's picture) or distances (2-D)."),
    ("histogram.png", "Member 0's final samples over the target."),
]
SUMMARY_FIRST = ("member", "seed", "status", "learned", "mean", "std", "ks", "w1")

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1180px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.sub { color: #666; } .big { font-size: 1.25em; } .ok { color: #1a7f37; } .bad { color: #b42318; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f4f4f4; cursor: pointer; user-select: none; } td.l, th.l { text-align: left; }
table.config td { text-align: left; } table.config td.doc { color: #666; max-width: 640px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 0 1em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; } code { background: #f6f6f6; padding: 0 3px; }
"""
SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], rows = Array.from(body.rows);
    var down = th.dataset.dir !== "asc"; th.dataset.dir = down ? "asc" : "desc";
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v !== undefined ? a.cells[col].dataset.v : a.cells[col].textContent;
      var y = b.cells[col].dataset.v !== undefined ? b.cells[col].dataset.v : b.cells[col].textContent;
      var p = parseFloat(x), q = parseFloat(y);
      var c = (isNaN(p) || isNaN(q)) ? String(x).localeCompare(String(y)) : p - q;
      return down ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
window.addEventListener("load", function () {
  document.querySelectorAll("img").forEach(function (img) {
    img.dataset.loaded = (img.complete && img.naturalWidth > 0) ? "yes" : "no";
  });
  document.documentElement.dataset.imagesChecked = "true";
});
"""


def esc(v) -> str:
    return html.escape(str(v), quote=True)


def fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "—" if not math.isfinite(v) else f"{v:.4g}"
    if v is None:
        return "—"
    return str(v)


def data_uri(raw: bytes, name: str) -> str:
    kind = "image/gif" if name.lower().endswith(".gif") else "image/png"
    return f"data:{kind};base64,{base64.b64encode(raw).decode('ascii')}"


def figure(raw: bytes, name: str, caption: str) -> str:
    return (
        f'<figure><img src="{data_uri(raw, name)}" alt="{esc(caption)}">'
        f"<figcaption><code>{esc(name)}</code> — {esc(caption)}</figcaption></figure>"
    )


def page(title: str, subtitle: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            REPORT_MARK,
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{esc(title)}</h1><p class=sub>{subtitle}</p>",
            *body,
            f"<script>{SCRIPT}</script></body></html>",
            "",
        ]
    )


# ---- reading a run directory (leniently: a report of a half-finished run is still useful)


def is_run(d: Path) -> bool:
    return (d / CONFIG).is_file()


def _render(draw) -> bytes:
    """PNG bytes of a picture function that writes to a path (figures and panels write files)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.png"
        draw(path)
        return path.read_bytes()


def page_pictures(d: Path, config: Config, history: list[dict]) -> tuple[list[tuple[str, bytes, str]], list[str]]:
    """[(name, bytes, caption)] of the run's pictures, and notes on what could not be drawn. A run trained
    without --pictures gets its panels drawn here from its final weights (no animation)."""
    notes: list[str] = []
    made: dict[str, bytes] = {}
    have = {p.name for p in d.iterdir() if p.suffix.lower() in (".png", ".gif") and p.is_file()}
    if not ({"distribution.png", "field.png"} & have):
        try:
            made |= _panels_from_weights(d, config)
        except GanfitError as e:
            notes.append(f"panels from the final weights could not be drawn: {e}")
    if "curves.png" not in have and "curves.png" not in made and history:
        made["curves.png"] = _render(lambda p: figures.curves(history, p))
    known = [n for n, _ in PICTURES]
    names = [n for n in known if n in have or n in made] + sorted(have - set(known))
    captions = dict(PICTURES) | {"moments.png": moments_caption(config)}
    out = []
    for n in names:
        raw = made[n] if n in made else (d / n).read_bytes()
        caption = captions.get(n, "")
        if n in made and n != "curves.png":
            caption += " (drawn from the final weights by `ganfit report`)"
        out.append((n, raw, caption))
    return out, notes


def moments_caption(config: Config) -> str:
    """moments.png's caption: what figures.moments draws for this run's target (1-D or 2-D)."""
    try:
        target = make_target(config.target)
    except GanfitError:
        return dict(PICTURES)["moments.png"]
    what = figures.moments_what(target)
    article = "the article's picture" if target.dim == 1 else "in 2-D, in place of the article's mean and std"
    return f"{what[0].upper()}{what[1:]} over epochs ({article}): every member faint, member 0 bold."


def _panels_from_weights(d: Path, config: Config) -> dict[str, bytes]:
    target = make_target(config.target)
    config, G, frame, _ = weights.read_generator(d)
    run = SimpleNamespace(config=config, G=G, frame=frame, members=G.members, dir=d)
    run.history, run.summary = read_metrics(d / METRICS), read_summary(d)
    snaps = capture_once(run, target)
    with tempfile.TemporaryDirectory() as tmp:
        written = figures.panel_figures(snaps, target, Path(tmp))
        return {p.name: p.read_bytes() for p in written}


# ---- the pages


def config_table(config: Config) -> str:
    rows = [
        f"<tr><td class=l><code>{esc(f.name)}</code></td><td class=l>{esc(getattr(config, f.name))}</td>"
        f"<td class=doc>{esc(f.metadata['doc'])}</td></tr>"
        for f in dataclasses.fields(config)
    ]
    return (
        "<table class=config><tr><th class=l>field</th><th class=l>value</th><th class=l>meaning</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def members_table(members: list[dict]) -> str:
    if not members:
        return "<p>No final metrics (summary.json is missing: did training finish?).</p>"
    keys = [k for k in SUMMARY_FIRST if any(k in m for m in members)]
    keys += [k for m in members for k in m if k not in keys and not isinstance(m[k], (dict, list))]
    keys = [k for k in dict.fromkeys(keys) if any(m.get(k) is not None for m in members)]  # not "—" in every row
    order = "ks" if "ks" in keys else keys[0]
    members = sorted(members, key=lambda m: (not isinstance(m.get(order), (int, float)), m.get(order) or 0))
    head = "".join(f'<th class="{"l" if k == "status" else ""}">{esc(k)}</th>' for k in keys)
    body = []
    for m in members:
        cells = []
        for k in keys:
            v = m.get(k)
            sort = f' data-v="{esc(v)}"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            cls = ' class="ok"' if v is True else (' class="bad"' if v is False else "")
            cells.append(f"<td{sort}{cls}>{esc(fmt(shown(k, v)))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<p class=sub>One row per member, ordered by {esc(order)} (lowest first); click a column to sort.</p>"
        f"<table class=sortable><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def comparison_table(summary: dict) -> list[str]:
    """`ganfit fit`'s comparison on the test part (older runs: the validation part): the chosen sampler,
    the median member, the baselines."""
    comp, split = summary.get("comparison"), summary.get("split") or {}
    if not isinstance(comp, dict) or not comp.get("rows"):
        return []
    names = [k for k in comp["rows"][0] if str(k).startswith(("test_", "val_"))]
    head = "<tr><th class=l>model</th>" + "".join(f"<th>{esc(n)}</th>" for n in names) + "</tr>"
    rows = [
        f"<tr><td class=l>{esc(r.get('model'))}</td>"
        + "".join(f"<td>{esc(fmt(shown(n, r.get(n))))}</td>" for n in names)
        + "</tr>"
        for r in comp["rows"]
    ]
    return [
        "<h2>Against the baselines, on held-out data</h2>",
        f"<p>Scored on {esc(split.get('test_rows', split.get('validation_rows')))} held-out rows that neither trained"
        f" nor chose anything ({esc(split.get('train_rows'))} in the train part, {esc(split.get('validation_rows'))}"
        f" chose the member, by {esc(split.get('chosen_by', comp.get('metric')))}); lower is better."
        + (f" {esc(split['missing_dropped'])} row(s) with a gap left out." if split.get("missing_dropped") else "")
        + "</p>",
        f"<table class=comparison>{head}{''.join(rows)}</table>",
    ] + ([f"<p>{esc(comp['verdict'])}.</p>"] if comp.get("verdict") else [])


def learned_line(summary: dict) -> str:
    if "members_total" not in summary:
        return ""
    k, n = summary.get("learned", 0), summary["members_total"]
    cls = "ok" if k == n else ("bad" if k == 0 else "")
    return (
        f'<p class="big {cls}"><b>{esc(k)}/{esc(n)}</b> members learned</p>'
        f"<p>Criterion: {esc(summary.get('criterion', '—'))}</p>"
    )


def provenance_table(summary: dict) -> str:
    """What made the run (summary.json's provenance: versions, platform, command, git commit), or ''."""
    prov = summary.get("provenance")
    if not isinstance(prov, dict) or not prov:
        return ""
    rows = "".join(
        f"<tr><th class=l>{esc(k)}</th><td class=l><code>{esc(fmt(v))}</code></td></tr>" for k, v in prov.items()
    )
    return f"<h3>Provenance</h3><table class=provenance>{rows}</table>"


def run_page(d: Path) -> str:
    config = Config.from_toml(d / CONFIG)
    summary, history = read_summary(d), read_metrics(d / METRICS)
    pictures, notes = page_pictures(d, config, history)
    facts = [
        ("target", summary.get("target", config.target)),
        ("status", summary.get("status", "no summary.json (unfinished?)")),
        ("epochs", f"{summary.get('epochs', '—')} of {summary.get('epochs_planned', config.epochs)}"),
        ("members", summary.get("members_total", config.seeds)),
        (
            "wall time",
            f"{summary['wall_seconds']:.1f} s" if isinstance(summary.get("wall_seconds"), (int, float)) else "—",
        ),
    ]
    median = summary.get("median") or {}
    body = [
        "<h2>Outcome</h2>",
        learned_line(summary),
        "<table>"
        + "".join(f"<tr><th class=l>{esc(k)}</th><td class=l>{esc(v)}</td></tr>" for k, v in facts)
        + "</table>",
        provenance_table(summary),
    ]
    if median:
        body.append("<p>Ensemble medians:</p><table><tr>" + "".join(f"<th>{esc(k)}</th>" for k in median) + "</tr><tr>")
        body.append("".join(f"<td>{esc(fmt(shown(k, v)))}</td>" for k, v in median.items()) + "</tr></table>")
    body += comparison_table(summary)
    body += ["<h2>Members</h2>", members_table(summary.get("members") or [])]
    body.append("<h2>Pictures</h2>")
    body += [f"<p class=bad>{esc(n)}</p>" for n in notes]
    body += [figure(raw, name, caption) for name, raw, caption in pictures] or ["<p>No pictures in this run.</p>"]
    body += ["<h2>Configuration</h2>", config_table(config)]
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return page(f"ganfit run {d.resolve().name}", f"{esc(d.resolve())} — report written {esc(stamp)}", body)


def cell(text, sort=None, cls: str = "") -> str:
    """A table cell: text escaped, with an escaped numeric sort key where there is one."""
    key = f' data-v="{esc(sort)}"' if isinstance(sort, (int, float)) and not isinstance(sort, bool) else ""
    return f'<td class="{cls}"{key}>{esc(fmt(text))}</td>'


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


RUN_COLUMNS = ("status", "epochs", "learned", "median KS", "median W1")


def run_config(r: Path) -> Config | str:
    """A run's Config, or why it cannot be read."""
    try:
        return Config.from_toml(r / CONFIG)
    except GanfitError as e:
        return f"(unreadable config: {e})"


def differing_fields(configs: list[Config | str]) -> list[str]:
    """The Config fields whose values are not all equal over the configs that could be read."""
    ok = [c for c in configs if isinstance(c, Config)]
    return [f.name for f in dataclasses.fields(Config) if any(getattr(c, f.name) != getattr(ok[0], f.name) for c in ok)]


def differ_note(differ: list[str], configs: list[Config | str]) -> str:
    bad = sum(not isinstance(c, Config) for c in configs)
    note = f" ({bad} config.toml could not be read.)" if bad else ""
    if not differ:
        return f"Every config field is the same in every run.{note}"
    return f"The runs' configs differ in {len(differ)} field(s): {', '.join(differ)}; every other is the same.{note}"


def run_row(r: Path, name: str, config: Config | str, differ: list[str]) -> str:
    """One run in the runs table: its name, the config fields that differ, its target and outcome."""
    s, ok = read_summary(r), isinstance(config, Config)
    med = s.get("median") or {}
    n, k = s.get("members_total", config.seeds if ok else None), s.get("learned")
    frac = k / n if isinstance(k, int) and n else None
    values = [getattr(config, f) if ok else None for f in differ if f != "target"]
    cells = [
        ("l", name, None),
        *(("" if isinstance(v, (int, float)) else "l", v, v) for v in values),
        ("l", config.target if ok else config, None),
        ("", s.get("status", "unfinished"), None),
        ("", s.get("epochs"), s.get("epochs")),
        ("", f"{k}/{n}" if k is not None else "—", frac),
        ("", fmt(med.get("ks")), med.get("ks")),
        ("", fmt(med.get("w1")), med.get("w1")),
    ]
    return "<tr>" + "".join(cell(t, v, cls) for cls, t, v in cells) + "</tr>"


def compare_section(names: list[str], runs: list[Path]) -> list[str]:
    """One picture per metric: every run's ensemble median over epochs, a line each, labelled by name."""
    histories = {name: read_metrics(r / METRICS) for name, r in zip(names, runs)}
    metrics = figures.compare_names(histories)
    if not metrics:
        return ["<p>No run has metric rows yet.</p>"]
    pictures = [figure(png(figures.compare_figure(histories, m)), m, "median per run") for m in metrics]
    return [
        "<p class=sub>One picture per metric: each run's ensemble median (over its members) at each logged epoch,"
        " one line per run, in the same colour in every picture.</p>",
        "<div class=grid>",
        *pictures,
        "</div>",
    ]


def sweep_page(d: Path, runs: list[Path]) -> str:
    """A directory of run directories: one table of the runs, with the config fields in which they differ,
    then one picture per metric with a line per run."""
    configs = [run_config(r) for r in runs]
    differ = differing_fields(configs)
    short = [r.name for r in runs]
    names = [str(r.relative_to(d)) if short.count(r.name) > 1 else r.name for r in runs]  # DIR/x and DIR/points/x
    columns = [("l", "run"), *(("l", f) for f in differ if f != "target"), ("l", "target")]
    head = "".join(f'<th class="{c}">{esc(t)}</th>' for c, t in columns + [("", t) for t in RUN_COLUMNS])
    rows = "".join(run_row(r, n, c, differ) for r, n, c in zip(runs, names, configs))
    body = [
        *sweep_points(d),
        "<h2>Runs</h2>",
        f"<p class=sub>{esc(differ_note(differ, configs))} Click a column to sort.</p>",
        f'<div style="overflow-x: auto"><table class="sortable runs"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>",
        "<h2>Metrics across runs</h2>",
        *compare_section(names, runs),
    ]
    name = d.resolve().name
    if (d / "points.csv").is_file() or (d / "sweep.toml").is_file():  # `ganfit sweep`'s directory
        return page(f"ganfit sweep {name}", f"{esc(d.resolve())}: {len(runs)} runs", body)
    return page(f"ganfit runs {name}: {len(runs)} runs", esc(d.resolve()), body)


def sweep_points(d: Path) -> list[str]:
    """`ganfit sweep`'s points.csv (success rates with Wilson intervals, medians) and its sweep file."""
    try:
        with open(d / "points.csv", newline="", encoding="utf-8") as fh:
            points = list(csv.DictReader(fh))
        spec = (d / "sweep.toml").read_text(encoding="utf-8") if (d / "sweep.toml").is_file() else ""
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    if not points:
        return []

    def num(v: str):
        try:
            return float(v)
        except ValueError:
            return v or None

    keys = [k for k in points[0] if k not in ("dir", "error")] + ["error"]
    rates = [num(p.get("rate", "")) for p in points]
    points = [p for _, p in sorted(zip(rates, points), key=lambda rp: -rp[0] if isinstance(rp[0], float) else 1.0)]
    left = ("point", "status", "error")
    head = "".join(f'<th class="{"l" if k in left else ""}">{esc(k)}</th>' for k in keys)
    body = [
        "<tr>" + "".join(cell(num(p.get(k, "")), num(p.get(k, "")), "l" if k in left else "") for k in keys) + "</tr>"
        for p in points
    ]
    return [
        "<h2>Sweep points</h2>",
        "<p class=sub>From points.csv (one row per member: results.csv): success rate over each point's seeds"
        " with its Wilson 95% interval, highest rate first; click a column to sort.</p>",
        f'<div style="overflow-x: auto"><table class=sortable><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>",
        f"<details><summary>sweep.toml</summary><pre>{esc(spec)}</pre></details>" if spec else "",
    ]


def _check_replaceable(target: Path) -> None:
    """report.html is written only as a new file or over a report ganfit wrote: never over other files (a
    run's weights, a user's notes). A link, a FIFO or a device there is refused by write_text."""
    if os.path.lexists(target) and not os.path.islink(target) and target.is_file() and not is_report(target):
        raise GanfitError(f"report: {target} is not a report ganfit wrote (nothing written): name a new file")


def write_report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of a run directory, or of a directory of run directories; return its path."""
    d = Path(path)
    if not d.is_dir():
        raise GanfitError(f"report {d}: no such directory")
    if is_run(d):
        text = run_page(d)
    else:
        # run directories right under DIR, or under DIR/points (`ganfit sweep`'s layout)
        places = [d] + ([d / "points"] if (d / "points").is_dir() else [])
        runs = sorted((p for q in places for p in q.iterdir() if p.is_dir() and is_run(p)), key=lambda p: p.name)
        if not runs:
            raise GanfitError(f"report {d}: not a ganfit run directory (no config.toml) nor a directory of runs")
        text = sweep_page(d, runs)
    target = Path(out) if out else d / REPORT
    _check_replaceable(target)
    try:
        write_text(target, text)
    except OSError as e:
        raise GanfitError(f"report: cannot write {target} ({io_reason(e)})") from None
    return target


__all__ = ["write_report", "REPORT"]

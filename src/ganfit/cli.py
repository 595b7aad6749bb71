"""The `ganfit` command: thin argument handling over the library (train, load, Run.sample, report, sweep).

Only the config, its parser and argparse load at start-up: each command imports the library it needs
(torch, scipy, matplotlib) once its arguments are known to be good, so that `ganfit --help` and a
mistyped flag answer at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.util
import io
import math
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

from . import __version__, provenance, recipes
from .config import FIELDS, Config, sections
from .errors import GanfitError
from .specs import parse_spec


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2: no usage dump
        raise GanfitError(message)


def _add_config_flags(p: argparse.ArgumentParser, presets: tuple[str, ...] = (), hide: tuple[str, ...] = ()) -> None:
    """One flag per config field, in the config's sections, those in `hide` left out of the help; the
    defaults shown are the `presets`' (as `ganfit fit` starts from those recipes: fit1d or fit2d), else
    Config's."""
    loaded = [(name, recipes.for_fit(name)) for name in presets]
    for title, names in sections():
        group = p.add_argument_group(f"config: {title}")
        for name in names:
            f, flag = FIELDS[name], "--" + name.replace("_", "-")
            values = {r: getattr(c, name) for r, c in loaded}
            default = next(iter(values.values()), f.default)
            if len(set(values.values())) > 1:
                default = "; ".join(f"{r}: {v!r}" for r, v in values.items())
            doc = argparse.SUPPRESS if name in hide else f"{f.metadata['doc']} (default: {default})"
            if f.type == "bool":
                group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=doc)
            else:
                kind = {"int": int, "float": float, "str": str}[f.type]
                group.add_argument(flag, dest=name, type=kind, default=None, metavar=name.upper(), help=doc)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ganfit", description="Train GANs on low-dimensional distributions and measure what they learned.")
    p.add_argument("--version", action="version", version=f"ganfit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train an ensemble of GANs (no options: the article's experiment)")
    t.add_argument("--config", metavar="FILE.toml", help="start from this config (flags override it)")
    t.add_argument("--recipe", metavar="NAME", help=f"start from a named preset: {', '.join(recipes.names())}")
    t.add_argument("--out", metavar="DIR", help="run directory (default: runs/<date-time>-<target>)")
    t.add_argument(
        "--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint (--epochs may extend it)"
    )
    _add_config_flags(t)
    f = sub.add_parser(
        "fit", help="fit your own data: a member chosen on validation rows, compared on test rows with expert baselines"
    )
    f.add_argument("data", metavar="DATA", help="a CSV file (pick with --column or --columns) or a .npy file")
    f.add_argument("--column", metavar="NAME", help="the CSV column to fit (1-D)")
    f.add_argument("--columns", metavar="A,B", help="two CSV columns to fit together (2-D)")
    f.add_argument(
        "--validation-fraction", type=float, default=0.2, metavar="F", help="share of the rows that choose (0.2)"
    )
    f.add_argument(
        "--test-fraction", type=float, default=0.2, metavar="F", help="share of the rows that only score (0.2)"
    )
    f.add_argument("--recipe", metavar="NAME", help="start from this preset (default: fit1d or fit2d by dimension)")
    f.add_argument("--out", metavar="DIR", help="run directory (default: runs/<date-time>-fit-<data>)")
    f.add_argument(
        "--flow", action="store_true", help="also compare with a normalizing flow (pip install 'ganfit[flow]')"
    )
    f.add_argument(
        "--drop-missing", action="store_true", help="leave out rows with a gap (empty, NA, NaN) in the columns fitted"
    )
    _add_config_flags(f, ("fit1d", "fit2d"), hide=("target", "validation"))  # fit refuses them: DATA's
    s = sub.add_parser("sample", help="draw samples from a trained generator, in the data's units")
    s.add_argument("run_dir", metavar="RUN_DIR")
    s.add_argument("-n", type=int, default=1000, help="how many samples (default: 1000)")
    s.add_argument("--member", type=int, help="which ensemble member (default: the best on validation, else 0)")
    s.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    s.add_argument("--out", metavar="FILE", help="FILE.csv or FILE.npy (default: CSV on stdout)")
    r = sub.add_parser("report", help="write report.html: one self-contained page of a run (or a directory of runs)")
    r.add_argument("run_dir", metavar="RUN_DIR|SWEEP_DIR")
    r.add_argument("--out", metavar="FILE.html", help="where to write it (default: DIR/report.html)")
    w = sub.add_parser("sweep", help="run a sweep file: config points x seeds, success rates with intervals")
    w.add_argument("sweep_file", metavar="SWEEP.toml")
    w.add_argument("--out", metavar="DIR", required=True, help="sweep directory; a rerun into it skips finished points")
    w.add_argument("--executor", choices=("local", "ray"), default="local", help="where points run (default: local)")
    w.add_argument("--address", metavar="auto|HOST:PORT", help="an existing Ray cluster (default: start one here)")
    w.add_argument("--workers", type=int, metavar="N", help="points at once here (default: one per core)")
    _add_config_flags(w)
    b = sub.add_parser("lab", help="the game live in a browser page: play, pause, step, change it mid-run")
    b.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="open this run (its state, rows and snapshots)")
    b.add_argument("--config", metavar="FILE.toml", help="start from this config (flags override it)")
    b.add_argument("--recipe", metavar="NAME", help=f"start from a named preset: {', '.join(recipes.names())}")
    b.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    b.add_argument("--runs", metavar="DIR", default="runs", help="where 'save as run' writes (default: runs)")
    b.add_argument("--no-browser", action="store_true", help="print the URL only")
    _add_config_flags(b)
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    if getattr(args, "recipe", None):
        if args.config:
            raise GanfitError("--recipe and --config both name a starting config: give one")
        config = recipes.load(args.recipe)
    else:
        config = Config.from_toml(args.config) if args.config else Config()
    overrides = {n: getattr(args, n) for n in FIELDS if getattr(args, n) is not None}
    return dataclasses.replace(config, **overrides).validate()


def default_out(config: Config | None = None, name: str = "") -> Path:
    name = name or parse_spec(config.target, "target")[0]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    base = Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    out, i = base, 1
    while out.exists():
        out, i = base.with_name(f"{base.name}-{i}"), i + 1
    return out


# The ensemble medians worth a line, for whichever metrics the target has (1-D or 2-D).
MEDIANS = [
    ("mean", "mean"),
    ("std", "std"),
    ("ks", "KS"),
    ("w1", "W1"),
    ("sw", "sliced W1"),
    ("mmd", "MMD²"),  # unbiased: an estimate below 0 (closer than its noise) is shown as 0
    ("modes", "modes"),
    ("hq", "high quality"),
    ("reverse_kl", "reverse KL"),
]


def cmd_train(args: argparse.Namespace) -> int:
    if args.resume:
        changed = [f"--{n.replace('_', '-')}" for n in FIELDS if getattr(args, n) is not None and n != "epochs"]
        changed += ["--config"] * bool(args.config) + ["--recipe"] * bool(args.recipe) + ["--out"] * bool(args.out)
        if changed:
            raise GanfitError(f"--resume continues a run as configured: {', '.join(changed)} cannot change it")
        config, out = None, Path(args.resume)
    else:
        config = config_from_args(args)  # a bad flag or file is refused before torch loads
        out = Path(args.out) if args.out else default_out(config)
    # the library loads here, not at start-up (see the module's doc)
    from .game import native
    from .progress import Progress
    from .rundir import reopen
    from .rundir.layout import check_data
    from .training import train

    if config is None and (out / "split.json").is_file():  # a `ganfit fit` run: its split, choice and comparison too
        return _resume_fit(out, args.epochs)
    if config is None:
        run = train(reopen(out, args.epochs), out, progress=Progress(), resume=True)
    else:
        if args.config:  # a replay: where its bits may differ, said once the library knows this machine
            provenance.note(provenance.read(Path(args.config)), native.platform_info())
        if args.config and args.target is None and args.validation is None:  # a run's config.toml: its data
            check_data(Path(args.config).parent, config, f"--config {args.config}")
        run = train(config, out, progress=Progress())
    return _closing(run, out)


def _resume_fit(out: Path, epochs: int | None) -> int:
    """Resume a fit run: train on from its checkpoint unless it finished, then conclude it again."""
    # the library loads here, not at start-up (see the module's doc)
    from .fitting import ENDED, comparison_lines, conclude_saved
    from .progress import Progress
    from .run import load
    from .rundir import layout, reopen
    from .training import train

    if epochs is not None or layout.read_summary(out).get("status") not in ENDED:
        run = train(reopen(out, epochs), out, progress=Progress(), resume=True)
        if run.summary["status"] not in ENDED:
            return _closing(run, out, learned=False)
    run = conclude_saved(load(out))
    print("\n".join(comparison_lines(run.summary)))
    return _closing(run, out, learned=False)


def cmd_fit(args: argparse.Namespace) -> int:
    # the library loads here, not at start-up (see the module's doc)
    from .fitting import comparison_lines, fit, sampler_words
    from .progress import Progress

    fields = {n: getattr(args, n) for n in FIELDS if getattr(args, n) is not None}
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    if args.column and columns:
        raise GanfitError("give --column NAME (1-D) or --columns A,B (2-D), not both")
    name = Path(args.data).stem + (f"-{args.column or '-'.join(columns)}" if args.column or columns else "")
    out = Path(args.out) if args.out else default_out(name=f"fit-{name}")
    try:
        run = _fit(fit, args, out, fields, columns, Progress())
    except KeyboardInterrupt:
        if not (out / "split.json").is_file():
            raise
        where = shlex.quote(str(out))
        print(f"ganfit: interrupted while comparing; finish with: ganfit train --resume {where}", file=sys.stderr)
        return 130
    if run.summary.get("comparison"):
        print("\n".join(comparison_lines(run.summary)))
        how = sampler_words(run.summary.get("sampler") or {})
        where, member = shlex.quote(str(out)), run.best_member
        print(f"sample it: ganfit sample {where} -n 1000  (member {member}, chosen on validation, {how})")
    return _closing(run, out, learned=False)


def _fit(fit, args: argparse.Namespace, out: Path, fields: dict, columns, progress):
    return fit(
        args.data,
        out,
        column=args.column,
        columns=columns,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
        recipe=args.recipe,
        progress=progress,
        flow=args.flow,
        drop_missing=args.drop_missing,
        **fields,
    )


def _closing(run, out: Path, learned: bool = True) -> int:
    """The closing lines of a run: its outcome, where its files are, and how it ended."""
    s = run.summary
    if learned:
        print(f"learned: {s['learned']}/{s['members_total']} members ({s['criterion']})")
    shown = [
        (label, max(s["median"][n], 0.0) if n == "mmd" else s["median"][n])
        for n, label in MEDIANS
        if s["median"].get(n) is not None
    ]
    medians = ", ".join(f"{label} {_figure(v, s if label == 'mean' else {})}" for label, v in shown)
    print(f"median: {medians}; {s['epochs']} epochs in {s['wall_seconds']:.1f} s")
    pictures, where = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".gif")), shlex.quote(str(out))
    print(f"run directory: {out}  (pictures: {', '.join(pictures)}; all in one page: ganfit report {where})")
    if s["diverged"]:
        print(f"diverged: {s['diverged']} member(s), saved at their last finite state (see summary.json)")
    if s["status"] == "interrupted":
        print(
            f"ganfit: interrupted after {s['epochs']} epochs; continue with: ganfit train --resume {where}",
            file=sys.stderr,
        )
        return 130
    return 0


def _figure(v: float, summary: dict) -> str:
    """A median to 4 figures; a mean to 4 figures of the data's spread (1.7e+09 says nothing of +-60 s)."""
    spread = min(summary.get("target_std") or [0])
    if not (spread > 0 and v and math.isfinite(v)):
        return f"{v:.4g}"
    digits = 4 + max(0, math.floor(math.log10(abs(v)) - math.log10(spread)))
    return f"{v:.{min(digits, 17)}g}"


def cmd_sample(args: argparse.Namespace) -> int:
    # the library loads here, not at start-up (see the module's doc)
    import numpy as np

    from .files import atomic_write, io_reason
    from .run import MAX_SAMPLES as most
    from .run import load

    if args.n > most:
        raise GanfitError(f"-n {args.n:,}: ganfit sample draws at most {most:,} at once (more: other --seed values)")
    if args.seed < 0:
        raise GanfitError(f"--seed must be >= 0, got {args.seed}")
    if args.out and Path(args.out).suffix not in (".csv", ".npy"):
        raise GanfitError(f"--out {args.out}: name a .csv or .npy file (its extension says which to write)")
    run = load(args.run_dir)
    x = run.sample(args.n, member=args.member, seed=args.seed)
    member = run.best_member if args.member is None else args.member
    if not np.isfinite(x).all():
        raise GanfitError(f"member {member}'s generator gives non-finite samples: it diverged (try another --member)")
    if args.out and args.out.endswith(".npy"):

        def write(tmp):
            with open(tmp, "wb") as fh:
                np.save(fh, x)
    else:
        buf = io.StringIO()
        np.savetxt(buf, x, delimiter=",", header=",".join(run.columns), comments="", fmt="%.9g")
        if not args.out:
            sys.stdout.write(buf.getvalue())
            return 0

        def write(tmp):
            Path(tmp).write_text(buf.getvalue())

    try:
        atomic_write(Path(args.out), write)
    except OSError as e:
        raise GanfitError(f"--out {args.out}: cannot write ({io_reason(e)})") from None
    print(f"wrote {len(x)} samples of member {member} to {args.out}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    # the library loads here, not at start-up (see the module's doc)
    from .pictures.report import write_report

    print(f"wrote {write_report(args.run_dir, args.out)}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    # the library loads here, not at start-up (see the module's doc)
    from .sweep import load_sweep, run_sweep

    if args.workers is not None and args.workers < 1:
        raise GanfitError(f"--workers must be >= 1, got {args.workers}")
    sweep = load_sweep(args.sweep_file, {n: getattr(args, n) for n in FIELDS if getattr(args, n) is not None})
    results = run_sweep(sweep, args.out, executor=args.executor, address=args.address, workers=args.workers)
    print("\n".join(results.best_lines()))
    out = Path(args.out)
    print(f"results: {out / 'results.csv'} (one row per member), {out / 'points.csv'} (one row per point)")
    failed = [r["point"] for r in results.point_rows() if r["status"] not in ("finished", "all members stopped")]
    if failed:
        names = ", ".join(failed[:5])
        print(f"ganfit: {len(failed)} point(s) did not finish ({names}): see points.csv", file=sys.stderr)
        return 1
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    config = config_from_args(args)  # a bad flag or file is refused before the server loads
    if args.run_dir and (args.config or args.recipe or any(getattr(args, n) is not None for n in FIELDS)):
        raise GanfitError("RUN_DIR opens a run as it was: give no --config, --recipe or config flags with it")
    if not 0 <= args.port < 65536:
        raise GanfitError(f"--port {args.port}: a port number from 1 to 65535 (0: a free one)")
    missing = [m for m in ("starlette", "uvicorn", "websockets") if importlib.util.find_spec(m) is None]
    if missing:
        raise GanfitError(f"ganfit lab needs {', '.join(missing)}: pip install 'ganfit[lab]'")
    # the library and the server load here, not at start-up (see the module's doc)
    from .lab.server import open_lab

    return open_lab(config, args.run_dir, Path(args.runs), args.port, not args.no_browser)


# The command's own process, set before torch and numpy load (they read these once, at load): OpenMP
# threads that spin while waiting make every small op ~25x slower as soon as another process wants the
# same core, and threads that sleep at once pay a wake-up per op (a 2-thread robust1d run 2.9x slower on
# an idle machine), so a short spin bridges one op to the next and then sleeps; numpy's OpenBLAS would
# start a spinning thread per core on the cores the compiled step plays on (docs/performance.md). The
# library sets none of these: `import ganfit` leaves a user's process as it was (README, "Threads").
THREAD_SETTINGS = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "2000", "OPENBLAS_NUM_THREADS": "1"}


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning from the library as one line, as an error is (not Python's two lines of source)."""
    print(f"ganfit: warning: {message}", file=sys.stderr)


def _utf8_mode() -> None:
    """Start again in Python's UTF-8 mode where the locale is not UTF-8 (LANG=C with PYTHONUTF8=0, a
    Latin-1 locale): there, unicode in arguments, paths and column names would arrive as undecodable
    bytes and fail to match or print. Every file ganfit writes is UTF-8 anyway; children inherit it."""
    if sys.flags.utf8_mode or sys.getfilesystemencoding().lower().replace("-", "") == "utf8":
        return
    os.environ["PYTHONUTF8"] = "1"
    try:
        os.execv(sys.executable, [sys.executable, "-X", "utf8", *sys.orig_argv[1:]])
    except OSError:  # no way to start again: carry on as the locale says
        pass


def main(argv: list[str] | None = None) -> int:
    real = argv is None  # a real command line, not a call from Python
    if real:
        _utf8_mode()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # a bare `ganfit`: what it can do
        _parser().print_help()
        return 0
    added = {k: v for k, v in THREAD_SETTINGS.items() if k not in os.environ}  # a user's own values win
    os.environ.update(added)
    before, provenance.COMMAND = provenance.COMMAND, shlex.join(["ganfit", *argv])
    shown, warnings.showwarning = warnings.showwarning, _warning_line
    try:
        args = _parser().parse_args(argv)
        commands = {
            "train": cmd_train,
            "fit": cmd_fit,
            "sample": cmd_sample,
            "report": cmd_report,
            "sweep": cmd_sweep,
            "lab": cmd_lab,
        }
        return commands[args.command](args)
    except GanfitError as e:
        print(f"ganfit: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganfit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout's reader went away after the run had finished: its lines are lost
        from .files import quiet_stdout  # files loads numpy: not at start-up (see the module's doc)

        quiet_stdout()
        print("ganfit: stdout was closed before the last lines were written", file=sys.stderr)
        return 141
    finally:
        provenance.COMMAND, warnings.showwarning = before, shown
        for k in added:  # main() called in a longer-lived process (a test, a notebook) leaves it as it was
            os.environ.pop(k, None)
        if real:  # the interpreter's exit then skips collecting the imports' ~10^6 objects: 0.4 s of a train
            gc.freeze()

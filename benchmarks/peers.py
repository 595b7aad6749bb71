"""ganfit beside its JAX peer (../shared/peers/), same games, same machine, one invocation.

    .venv/bin/python benchmarks/peers.py --setup          # once: the peer's own venv (jax, scipy)
    .venv/bin/python benchmarks/peers.py                  # every workload, 3 rounds
    .venv/bin/python benchmarks/peers.py --only robust1d --rounds 5
    .venv/bin/python benchmarks/peers.py --isa avx2       # both sides held to AVX2 on an AVX-512 machine

Each run is a separate process; within a round the two alternate (ganfit first in odd rounds, the peer
first in even ones), so that what else the machine does falls on both. For each workload it prints both
figures (median of the rounds), their ratio, the spread (min-max over rounds) and each side's quality
figure, so that speed is never bought with a different game. Rates are GAN-epochs per second of the
training itself (ganfit's loop with its metric rows, from summary.json; the peer's jitted run without its
compile); the article's K = 1 run is timed from command to exit. JAX is never a dependency of ganfit:
the peer runs in its own virtual environment (`--setup` makes it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from speed import ROOT, timed  # noqa: E402

PEERS = ROOT.parent / "shared" / "peers"
VENV = Path(tempfile.gettempdir()) / "ganfit-jaxpeer"

# name: (ganfit's train flags, the peer's script and arguments, epochs, K, what is compared)
WORKLOADS = {
    "article-K1": ([], ["jax_peer.py"], 30_000, 1, "wall"),
    "article-K256": ([], ["jax_peer.py"], 1_000, 256, "rate"),
    "robust1d": (["--recipe", "robust1d"], ["jax_peer_recipe.py", "robust1d"], 4_000, 16, "rate"),
    "ring": (["--recipe", "ring"], ["jax_peer_recipe.py", "ring"], 2_000, 10, "rate"),
    "grid": (["--recipe", "grid", "--lr-decay", "0"], ["jax_peer_recipe.py", "grid"], 2_000, 10, "rate"),
}
# --isa: the instruction set both sides are held to (an AVX2-only machine, on one that has AVX-512):
# torch's CPU capability and ganfit's kernel variant; XLA's largest ISA for the peer.
ISA = {
    "native": ({}, {}),
    "avx2": ({"ATEN_CPU_CAPABILITY": "avx2", "GANFIT_KERNEL": "avx2"}, {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}),
}
PEER_LINE = re.compile(r"compile ([\d.]+)s run ([\d.]+)s\s+([\d,]+) GAN-epochs/s\s+(.*)$")


def setup(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "jax", "scipy"], check=True)
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import jax; print(jax.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    print(f"peer venv {venv}: jax {out.stdout.strip()}")


def ganfit_quality(summary: dict) -> str:
    members = summary["members"]
    if "ks" in members[0] and "modes" not in members[0]:
        ks = [m["ks"] for m in members]
        learned = sum(m["learned"] for m in members)
        under = sum(k < 0.03 for k in ks)
        return f"learned {learned}/{len(ks)}, KS<0.03: {under}/{len(ks)} median KS {statistics.median(ks):.4f}"
    modes = statistics.median(m["modes"] for m in members)
    hq = statistics.median(m["hq"] for m in members)
    return f"modes {modes:g}/{len(members[0]['mode_props'])} median HQ {hq:.3f}"


def run_ganfit(flags: list[str], epochs: int, K: int, env: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(ROOT / ".venv" / "bin" / "ganfit"), "train", *flags, "--epochs", str(epochs), "--seeds", str(K)]
        wall, rss, _ = timed([*cmd, "--out", f"{tmp}/run"], env=os.environ | env)
        summary = json.loads(Path(tmp, "run", "summary.json").read_text())
        threads = re.search(r"^threads = (\d+)", Path(tmp, "run", "config.toml").read_text(), re.M).group(1)
    made = summary.get("provenance", {})
    return {
        "wall": wall,
        "rate": summary["gan_epochs_per_second"],
        "rss": rss,
        "quality": ganfit_quality(summary),
        "note": f"{threads} thread(s), {summary.get('engine')} on {made.get('cpu')}, kernel {made.get('kernel')}",
    }


def run_peer(venv: Path, script: list[str], epochs: int, K: int, env: dict) -> dict:
    cmd = [str(venv / "bin" / "python"), str(PEERS / script[0]), *script[1:], str(epochs), str(K)]
    wall, rss, text = timed(cmd, env=os.environ | env)
    m = PEER_LINE.search(text.strip().splitlines()[-1])
    if not m:
        raise SystemExit(f"unexpected peer output: {text[-500:]}")
    compile_s, run_s, rate, quality = m.groups()
    return {
        "wall": wall,
        "rate": float(rate.replace(",", "")),
        "rss": rss,
        "quality": quality,
        "note": f"compile {float(compile_s):.1f} s",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--setup", action="store_true", help=f"make the peer's virtual environment ({VENV}) and stop")
    p.add_argument("--venv", type=Path, default=VENV, help="the peer's virtual environment")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads: " + ", ".join(WORKLOADS))
    p.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    p.add_argument("--isa", choices=ISA, default="native", help="hold both sides to this instruction set")
    args = p.parse_args()
    if args.setup:
        return setup(args.venv)
    if not (args.venv / "bin" / "python").exists():
        raise SystemExit(f"no peer environment at {args.venv}: run with --setup first")

    names = args.only.split(",")
    results = {n: {"ganfit": [], "peer": []} for n in names}
    for r in range(args.rounds):
        for name in names:
            flags, script, epochs, K, _ = WORKLOADS[name]
            order = ("ganfit", "peer") if r % 2 == 0 else ("peer", "ganfit")
            for side in order:
                ours, theirs = ISA[args.isa]
                res = (
                    run_ganfit(flags, epochs, K, ours)
                    if side == "ganfit"
                    else run_peer(args.venv, script, epochs, K, theirs)
                )
                results[name][side].append(res)
                print(
                    f"round {r + 1} {name} {side}: {res['wall']:.1f} s, {res['rate']:,.0f} GAN-epochs/s, "
                    f"{res['quality']} ({res['note']})",
                    file=sys.stderr,
                    flush=True,
                )

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}; "
        f"{args.rounds} rounds, alternating; instruction set: {args.isa}"
    )
    print(
        "| workload | figure | JAX peer | ganfit | ganfit / peer | spread (peer; ganfit) "
        "| peer quality | ganfit quality |"
    )
    print("|---|---|---:|---:|---:|---|---|---|")
    for name in names:
        _, _, epochs, K, what = WORKLOADS[name]
        peer, ours = (results[name][s] for s in ("peer", "ganfit"))
        vp, vg = ([x[what] for x in side] for side in (peer, ours))
        mp, mg = statistics.median(vp), statistics.median(vg)
        ratio = mp / mg if what == "wall" else mg / mp  # > 1: ganfit faster
        unit = "command to exit, s" if what == "wall" else "GAN-epochs/s"
        spread = f"{min(vp):,.1f}–{max(vp):,.1f}; {min(vg):,.1f}–{max(vg):,.1f}"
        print(
            f"| {name} (K={K}, {epochs:,} epochs) | {unit} | {mp:,.1f} | {mg:,.1f} | **{ratio:.2f}×** | {spread} "
            f"| {peer[-1]['quality']} | {ours[-1]['quality']} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

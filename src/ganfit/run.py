"""A trained ensemble: what `train` returns and `load` reads back from a run directory, and what a
notebook shows of it (`_repr_html_`), saves (`save`) and reports (`report`)."""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError

from . import notebook
from .config import MAX, Config
from .errors import GanfitError
from .files import io_reason, write_text
from .game import rng
from .game.frame import Frame
from .game.game import eval_noise
from .game.models import MLP, Generator
from .game.noise import make_noise
from .game.targets import make_target
from .pictures import figures
from .pictures.report import write_report
from .rundir import layout, weights
from .rundir.layout import METRICS, SUMMARY, WEIGHTS, read_metrics, read_summary
from .sampler import DGuided, Smoothed

SAMPLER = "sampler.safetensors"  # a fit's D-guided sampler (its critic and threshold), when it was chosen

MAX_SAMPLES = 10**7  # at once: about 4 GB of memory for G's hidden layers


def whole(v):
    """A numpy or torch integer as Python's int (bool is no count); anything else as it is, to be refused."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_):
        return int(v)
    return v


@dataclass
class Run:
    """A trained ensemble of K GANs: weights, config, history and summary."""

    config: Config
    G: MLP
    D: MLP | None
    frame: Frame
    columns: list[str]
    dir: Path | None = None
    summary: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    refined: DGuided | Smoothed | None = None  # the sampler a fit chose (summary's `sampler`), else None

    @property
    def members(self) -> int:
        """K, the number of GANs in this run."""
        return self.G.members

    def __repr__(self) -> str:
        s = self.summary
        learned = f", learned {s['learned']}/{s.get('members_total')}" if "learned" in s else ""
        status = f"{s.get('status', 'no summary')} after {s.get('epochs')} epochs"
        return f"Run({self.members} member(s), {status}{learned}, dir={self.dir})"

    def _repr_html_(self) -> str:
        return notebook.run_html(self)

    def save(self, out: str | Path) -> Path:
        """Write this run as a run directory (a run trained with out=None keeps everything in memory):
        config.toml (data in memory as .npy files), metrics.jsonl, summary.json, the weights and the
        pictures every run gets; then `report()` draws the rest. Returns the directory."""
        out = Path(out)
        self.config = layout.create(out, self.config, (self.summary or {}).get("provenance"))
        rows = "".join(json.dumps(r, allow_nan=False) + "\n" for r in self.history)
        try:
            write_text(out / METRICS, rows)
        except OSError as e:
            raise GanfitError(f"cannot write in {out}: {io_reason(e)}") from None
        self.dir = out
        self.write_results()
        if self.refined is not None:  # a fit in memory that chose the D-guided sampler or a kernel
            try:
                self.refined.save(out / SAMPLER)
            except OSError as e:
                raise GanfitError(f"cannot write in {out}: {io_reason(e)}") from None
        target = make_target(self.config.target)
        with torch.no_grad():
            z = eval_noise(self.config, make_noise(self.config.noise), self.G.device)
            samples = self.frame.to_data(self.G.evaluate(z)).cpu().numpy()
        try:
            figures.run_pictures(out, target, self.history, samples)
        except OSError as e:
            raise GanfitError(f"cannot write pictures in {out}: {io_reason(e)}") from None
        return out

    def report(self, out: str | Path | None = None) -> Path:
        """report.html of the run (in its directory unless `out` says where); returns its path."""
        if self.dir is None:
            raise GanfitError("this run has no directory yet: run.save(DIR) first, then run.report()")
        return write_report(self.dir, out)

    @property
    def best_member(self) -> int:
        """The member chosen on validation (summary.json's best_member), else member 0."""
        best = self.summary.get("best_member")
        return best if isinstance(best, int) and 0 <= best < self.members else 0

    def _member(self, member: int | None) -> int:
        member = self.best_member if member is None else whole(member)
        if type(member) is not int or not 0 <= member < self.members:
            raise GanfitError(f"member {member!r} out of range: this run has {self.members} member(s)")
        return member

    def generator(self, member: int | None = None, plain: bool = False) -> torch.nn.Module:
        """A torch module of one member's G (default: the best member) that maps noise [N, noise_dim] to
        samples [N, dim] in the data's units; draw its noise with `noise`. Where a fit chose the D-guided
        sampler (summary's `sampler`), the default is that sampler (sampler.DGuided: `forward(z, u)`
        keeps the rows its critic accepts, `sample(n, seed)` draws n), and where it chose a kernel on
        the samples, sampler.Smoothed around it (`forward(*inputs, e)` adds bandwidth * e); either is what
        the comparison measured; `plain=True` gives the member's G alone."""
        if member is None and not plain and self.refined is not None:
            return self.refined.eval()
        return Generator(self.G, self._member(member), self.frame).eval()

    def noise(self, n: int, seed: int = 0, member: int | None = None) -> torch.Tensor:
        """The noise [n, noise_dim] that `sample(n, member, seed)` (and `ganfit sample`) feeds to G."""
        n, seed = whole(n), whole(seed)
        if type(n) is not int or n < 1:
            raise GanfitError(f"number of samples must be >= 1 (a whole number), got {n!r}")
        if n > MAX_SAMPLES:
            raise GanfitError(f"{n:,} samples: at most {MAX_SAMPLES:,} at once (draw more with other seeds)")
        if type(seed) is not int or not 0 <= seed <= MAX["seed"]:
            raise GanfitError(f"seed must be a whole number in 0..{MAX['seed']:,}, got {seed!r}")
        noise, member = make_noise(self.config.noise), self._member(member)
        u = rng.fixed(rng.member_keys([seed], f"sample/{member}", self.G.device), n * noise.n_uniforms)
        return noise.sample(u.reshape(n, noise.n_uniforms))

    def sample(self, n: int, member: int | None = None, seed: int = 0) -> np.ndarray:
        """n samples [n, dim] from one member's generator (default: the best member, through the D-guided
        sampler where a fit chose it), in the data's units."""
        if member is None and self.refined is not None:
            self.noise(n, seed)  # the same checks on n and seed
            return self.refined.sample(n, seed)[0]
        with torch.no_grad():
            return self.generator(member)(self.noise(n, seed, member)).cpu().numpy()

    def write_results(self) -> None:
        """weights.safetensors and summary.json into the run's directory (the end of a run)."""
        try:
            weights.save(self.dir / WEIGHTS, self.G, self.D, self.frame, self.columns)
            write_text(self.dir / SUMMARY, json.dumps(self.summary, indent=2) + "\n")
        except (OSError, SafetensorError) as e:
            raise GanfitError(f"cannot write results in {self.dir}: {io_reason(e)}") from None


def load(run_dir: str | Path) -> Run:
    """Read a run directory back: its config, generator weights, summary and metric history."""
    d = Path(run_dir)
    config, G, frame, columns = weights.read_generator(d)
    run = Run(config, G, None, frame, columns, d, read_summary(d), read_metrics(d / METRICS))
    sampler = run.summary.get("sampler")
    if isinstance(sampler, dict) and sampler.get("kind") == "d-guided":
        if not (d / SAMPLER).is_file():
            raise GanfitError(f"run directory {d}: summary.json names a D-guided sampler but {SAMPLER} is missing")
        plain = Generator(G, run.best_member, frame).eval()
        run.refined = DGuided.load(d / SAMPLER, plain, frame, make_noise(config.noise), len(frame.scale))
    kernel = sampler.get("smoothing") if isinstance(sampler, dict) else None
    if isinstance(kernel, dict) and kernel.get("factor"):
        try:
            h = np.asarray(kernel["bandwidth"], dtype=np.float64)
            ok = h.shape == (len(frame.scale),) and np.isfinite(h).all() and (h >= 0).all()
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise GanfitError(f"run directory {d}: summary.json's sampler smoothing is not a bandwidth per column")
        member = run.best_member
        inner = run.refined if run.refined is not None else Generator(G, member, frame).eval()
        run.refined = Smoothed(inner, h, make_noise(config.noise), member)
    return run

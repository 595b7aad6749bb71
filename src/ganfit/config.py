"""The run configuration: one flat, typed dataclass whose defaults are the seed's experiment.

Every field carries its own documentation (`doc`), which becomes the CLI's --help and the comment
above the field in a run's config.toml, so any run directory documents and repeats itself.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import custom
from .errors import GanfitError
from .specs import parse_spec

LOSS_NAMES = ("bce", "ns", "minimax", "lsgan", "hinge", "wgan")  # losses.LOSSES, without importing torch
PER_MEMBER = ("seed", "lr_d", "lr_g", "beta1", "beta2", "g_activation")  # what may differ between one run's members
ACTIVATION_NAMES = ("elu", "sigmoid", "tanh", "relu", "leaky_relu")  # models.ACTIVATIONS, without importing torch
GRADIENTS = ("auto", "fast", "autograd")
OPTIMIZERS = ("adam", "sgd")
_MEMBER_KINDS = {"seed": "integers", "g_activation": f"activations ({', '.join(ACTIVATION_NAMES)})"}


def _member_value(name: str, text: str):
    """One member's value of per_member's `name`; ValueError if it is not of that name's kind."""
    if name == "g_activation":
        if text.strip() not in ACTIVATION_NAMES:
            raise ValueError(text)
        return text.strip()
    return int(text) if name == "seed" else float(text)


def _out_of_range(name: str, v) -> bool:
    """Whether one member's parsed value of per_member's `name` is outside what the field allows (an
    activation's name was checked as it was parsed)."""
    if name == "g_activation":
        return False
    if name == "seed":
        return not 0 <= v <= MAX["seed"]
    return not math.isfinite(v) or (name.startswith("lr") and v <= 0) or (name.startswith("beta") and not 0 <= v < 1)


RENAMED = {"engine": "gradients"}  # old config keys that still load
# metrics that early_stop and keep_best may watch (the 2-D ones and val_ ones where the run has them)
WATCHABLE = ("ks", "w1", "sw", "mmd", "val_ks", "val_w1", "val_sw", "val_mmd")
# The largest value of each count: far past any sensible run, and refused before anything is allocated
# (Python's ints have no bound; torch's are int64). How much memory a run needs is budget.py's question.
MAX = {
    "epochs": 1_000_000_000,
    "seed": 2**53,  # exact in every JSON reader
    "seeds": 1 << 20,  # a GPU trains 10^5 members at once (performance.md); memory is budget.check's question
    "batch": 1_000_000,
    "g_hidden": 100_000,
    "d_hidden": 100_000,
    "d_steps": 1_000,
    "g_steps": 1_000,
    "log_every": 1_000_000_000,
    "eval_samples": 1_000_000,
    "checkpoint_every": 1_000_000_000,
    "early_stop_patience": 100_000,
    "threads": 256,
    "snapshot_every": 1_000_000_000,
}
MAX_LOG_ROWS = 100_000  # metric rows per member: epochs / log_every
MAX_SNAPSHOTS = 1_000  # picture snapshots (with pictures): epochs / snapshot_every
MAX_TOML_BYTES = 16 << 20  # a config or sweep file


def opt(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass
class Config:
    """Every number of a run (the defaults are the article's experiment); see FIELDS for each one's meaning."""

    # --- R and I: what to learn, from what
    target: str = opt(
        "gaussian:mean=4,std=1.25",
        "R, the real data. 1-D: gaussian:mean=M,std=S | uniform:low=A,high=B | laplace:loc=,scale="
        " | student_t:df=,loc=,scale= | lognormal:mu=,sigma= | exponential:rate=,loc="
        " | mog:means=A;B,stds=S;T,weights=P;Q | csv:path=FILE[,column=NAME]."
        " 2-D: ring:modes=8,radius=2,std=0.02 | grid:n=5,spacing=2,std=0.05 | spiral:noise=0.25,scale=7.5"
        " | moons:noise=0.1 | csv:path=FILE,columns=A;B. Either: npy:path=FILE[,columns=A;B] | data in memory"
        " (Config(target=array), recorded as array:sha256=...; a run directory keeps it as target.npy)",
    )
    validation: str = opt(
        "",
        "held-out samples of the same data (a csv:, npy: or in-memory target, never trained on): every member"
        " is measured against them at each log row, as val_ks and val_w1 (1-D) or val_sw and val_mmd (2-D)"
        " (empty: none)",
    )
    noise: str = opt("uniform:dim=1", "I, the generator's input: uniform:dim=N (on [0, 1)) | normal:dim=N")
    normalize: bool = opt(
        True,
        "train in a working frame: the data mapped affinely to mean frame_mean and std frame_std,"
        " and back when sampling (the identity for the default target)",
    )
    frame_mean: float = opt(
        4.0, "mean of the working frame: the seed's data mean, for which its hyperparameters were tuned"
    )
    frame_std: float = opt(1.25, "standard deviation of the working frame (the seed's)")
    # --- G and D
    g_hidden: int = opt(50, "G's hidden width")
    g_activations: str = opt(
        "elu,sigmoid", "G's hidden activations, one per hidden layer (elu, sigmoid, tanh, relu, leaky_relu)"
    )
    g_model: str = opt(
        "",
        "G's network from Python instead of the MLP: a torch.nn.Module for one member, which ganfit copies per"
        " member (each initialised from its seed) and stacks, or a factory(in_features, out_features, seeds,"
        " device) returning an ensemble net [K, rows, in] -> [K, rows, out]; recorded as custom:NAME (empty: MLP)",
    )
    d_view: str = opt(
        "minibatch:diffs=true",
        "how D sees samples: minibatch:diffs=true|false (the seed's: the whole batch as one vector;"
        " diffs adds each value's squared deviation from the batch mean) | sample[:stddev=true] (one D"
        " output per sample) | pack:m=N[,stddev=true] (PacGAN: N samples concatenated per D input);"
        " stddev appends the batch's standard deviation (mean over dims) to every D input",
    )
    d_hidden: int = opt(50, "D's hidden width")
    d_activations: str = opt("elu,elu", "D's hidden activations, one per hidden layer; D's output is a sigmoid")
    d_model: str = opt("", "D's network from Python, as g_model (its input is what d_view makes of a batch)")
    # --- the game
    loss: str = opt(
        "bce",
        "bce: the seed's: D's binary cross-entropy, real 1 and fake 0; G's BCE against label 1"
        " | ns: the same (Goodfellow's non-saturating G) | minimax: G minimises log(1 - D(G(z)))"
        " | lsgan: least squares (targets 1 and 0) | hinge | wgan: Wasserstein (critic; add gp)"
        " | from Python: a function (real_logits, fake_logits) -> (d_on_real, d_on_fake, g), each [K] per member,"
        " recorded as custom:NAME",
    )
    gp: float = opt(
        0.0,
        "WGAN-GP weight: lambda * mean (|grad D(x_hat)| - 1)^2, x_hat = eps x_real + (1 - eps) x_fake with"
        " eps uniform per sample; the norm is over each D input's samples (0: off)",
    )
    r1: float = opt(
        0.0, "R1 gamma: D's loss gets gamma/2 * mean over D inputs of |grad_x D(x)|^2 on real data (0: off)"
    )
    r2: float = opt(0.0, "R2 gamma: the same penalty on fake data (0: off)")
    spectral_norm: bool = opt(
        False, "divide each of D's weight matrices by its spectral norm (one power iteration per D step)"
    )
    d_penalty: str = opt(
        "",
        "a regulariser on D from Python, added to D's loss: a function (D, view, real, fake) -> [K], real and fake"
        " [K, B, dim], D(view(x)) D's logits (as r1 and gp are; see game/losses.py); recorded as custom:NAME",
    )
    batch: int = opt(100, "samples per minibatch (the seed's D input size)")
    optimizer: str = opt(
        "adam",
        "adam: torch's Adam (beta1, beta2 below) | sgd: plain gradient descent, w -= lr * grad (GAN Lab's other"
        " choice; the betas unused, Adam's moments kept as they are)",
    )
    lr_d: float = opt(2e-4, "D's learning rate")
    lr_g: float = opt(2e-4, "G's learning rate")
    beta1: float = opt(0.9, "Adam beta1, both nets")
    beta2: float = opt(0.999, "Adam beta2, both nets")
    g_ema: float = opt(
        0.0,
        "decay of an exponential moving average of G's weights, updated every epoch after a warm-up (epoch t"
        " uses min(g_ema, (1 + t) / (10 + t))); the average is the G that is evaluated, saved and sampled"
        " (0: off, the live G; e.g. 0.999)",
    )
    lr_decay: float = opt(
        0.0,
        "fraction of the epochs, at the end, over which both learning rates fall in a straight line towards 0:"
        " in the last n = lr_decay * epochs epochs, epoch t uses lr * (epochs - t) / n (0: constant; a resume"
        " that asks for more epochs moves the decay with them)",
    )
    d_steps: int = opt(1, "D steps per epoch")
    g_steps: int = opt(1, "G steps per epoch")
    epochs: int = opt(30000, "training epochs")
    # --- the ensemble and the machine
    seed: int = opt(0, "seed of member 0; member i uses seed + i")
    seeds: int = opt(1, "K, independent GANs trained together as one ensemble")
    per_member: str = opt(
        "",
        "members that differ in seed, Adam's settings or G's activation, one value per member:"
        " seed=0,1,0,1;lr_d=1e-4,1e-4,2e-4,2e-4 (names: seed, lr_d, lr_g, beta1, beta2, and g_activation,"
        " the activation of all G's hidden layers, e.g. g_activation=elu,elu,relu,relu; those not named"
        " take the fields above, seed as seed + i). A sweep trains its points this way, as one ensemble",
    )
    log_every: int = opt(200, "epochs between metric rows (and status lines)")
    eval_samples: int = opt(10000, "generated samples per member for metrics, from a fixed noise batch")
    target_mmd: bool = opt(
        True,
        "2-D: each member's MMD² against the target at every metric row (the costliest metric: 0.16 s a row"
        " at 6 members and 1,000 target rows); ganfit fit leaves it out, as it watches the validation part's",
    )
    checkpoint_every: int = opt(
        1000, "epochs between checkpoints in the run directory (also written on SIGINT/SIGTERM)"
    )
    early_stop: str = opt(
        "", "early stopping per member on a plateau of this metric (ks, w1, sw, mmd or a val_ one; empty: off)"
    )
    early_stop_patience: int = opt(20, "log intervals without improvement before a member stops")
    early_stop_delta: float = opt(0.0, "smallest decrease of the early-stop metric that counts as improvement")
    keep_best: str = opt(
        "",
        "keep each member's weights from the log row where this metric was lowest (e.g. val_w1): they are what"
        " the run saves, measures and samples (empty: the last weights)",
    )
    gradients: str = opt(
        "auto",
        "how gradients are computed: auto (fast wherever it covers the game) | fast (derived by hand: the"
        " built-in losses with the minibatch, sample or pack view, R1/R2; on the CPU the seed's game runs"
        " compiled, in C) | autograd (torch's autograd: every loss, view and regulariser; the reference)",
    )
    device: str = opt("cpu", "cpu or cuda")
    threads: int = opt(
        0, "CPU threads (0: the idle cores, but 1 where torch's ops are small or for one compiled member; recorded)"
    )
    # --- pictures and logs (pictures/)
    pictures: bool = opt(
        False,
        "draw the GAN-Lab-style panels (D vs D*, G's map, densities, heat maps) and evolution.gif in the run"
        " directory, from snapshots taken at log rows",
    )
    snapshot_every: int = opt(
        0, "epochs between picture snapshots, taken at the next log row (0: about 50 over the run)"
    )
    tensorboard: bool = opt(
        False, "write TensorBoard events (scalars per member, histograms of fake samples) to RUN_DIR/tensorboard"
    )

    def __post_init__(self):
        for name in custom.FIELDS:
            if not isinstance(getattr(self, name), str):
                setattr(self, name, custom.hold(getattr(self, name)))
        for name in ("target", "validation"):
            value = getattr(self, name)
            if not isinstance(value, str) or value.startswith("array:"):
                # numpy loads only for data given in memory: the CLI's start-up never pays for it
                from .arrays import keep, spec_for

                spec = spec_for(value, name)
                self.__dict__.setdefault("_held", []).append(keep(spec))  # the data live as long as this config
                setattr(self, name, str(spec))

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__.pop("_valid", None)  # a field set anew is checked anew
        object.__setattr__(self, name, value)

    def validate(self) -> Config:
        """Check types and ranges; return self. Specs are checked where they are built. A config checked
        once and not changed since is not checked again (the CLI checks it before torch loads, the plan
        after)."""
        if self.__dict__.get("_valid"):
            return self
        self._check_types()
        positive = [
            "epochs",
            "seeds",
            "batch",
            "g_hidden",
            "d_hidden",
            "d_steps",
            "g_steps",
            "log_every",
            "eval_samples",
            "lr_d",
            "lr_g",
            "frame_std",
            "checkpoint_every",
            "early_stop_patience",
        ]
        for name in positive:
            if getattr(self, name) <= 0:
                raise GanfitError(f"{name} must be > 0, got {getattr(self, name)}")
        self._check_counts()
        for name in ("beta1", "beta2", "g_ema"):
            if not 0 <= getattr(self, name) < 1:
                raise GanfitError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0 <= self.lr_decay <= 1:
            raise GanfitError(f"lr_decay must be in [0, 1], got {self.lr_decay}")
        if self.seed < 0:
            raise GanfitError(f"seed must be >= 0, got {self.seed}")
        if self.snapshot_every < 0:
            raise GanfitError(f"snapshot_every must be >= 0, got {self.snapshot_every}")
        if self.threads < 0:
            raise GanfitError(f"threads must be >= 0, got {self.threads}")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise GanfitError(f"device must be cpu or cuda, got {self.device!r}")
        for name in ("early_stop", "keep_best"):
            if getattr(self, name) not in ("", *WATCHABLE):
                raise GanfitError(f"{name} must be one of {', '.join(WATCHABLE)} or empty, got {getattr(self, name)!r}")
        if self.early_stop_delta < 0:
            raise GanfitError(f"early_stop_delta must be >= 0, got {self.early_stop_delta}")
        if self.optimizer not in OPTIMIZERS:
            raise GanfitError(f"optimizer must be {' or '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.gradients not in GRADIENTS:
            raise GanfitError(f"gradients must be {', '.join(GRADIENTS)}, got {self.gradients!r}")
        if self.member_values().get("g_activation") and self.g_model:  # also checks per_member
            raise GanfitError("per_member: g_activation sets the activations of ganfit's MLP G, not of g_model's")
        self._check_custom()
        for name in ("gp", "r1", "r2"):
            if getattr(self, name) < 0:
                raise GanfitError(f"{name} must be >= 0, got {getattr(self, name)}")
        self.__dict__["_valid"] = True
        return self

    def _check_types(self) -> None:
        """Each field of its type: numpy's numbers and an int for a float taken as Python's own."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            want = {"int": int, "float": float, "bool": bool, "str": str}[f.type]
            if type(value) is not want:  # numpy's numbers (np.int64(8), np.float32(0.2)) as Python's
                value = _plain(value, want)
                setattr(self, f.name, value)
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value) if abs(value) < 2**1023 else math.inf  # float() of a huge int raises
                setattr(self, f.name, value)
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise GanfitError(f"config field {f.name!r}: expected {f.type}, got {value!r}")
            if want is float and not math.isfinite(value):
                raise GanfitError(f"config field {f.name!r}: {value} is not a finite number")

    def _check_counts(self) -> None:
        """Every count under its maximum (MAX), and the metric rows and snapshots they make."""
        for name, most in MAX.items():
            if getattr(self, name) > most:
                raise GanfitError(f"{name} must be at most {most:,}, got {getattr(self, name):,}")
        if self.log_rows() > MAX_LOG_ROWS:
            raise GanfitError(
                f"epochs / log_every gives {self.log_rows():,} metric rows per member, at most {MAX_LOG_ROWS:,}:"
                " raise log_every"
            )
        if self.pictures and self.snapshots() > MAX_SNAPSHOTS:
            raise GanfitError(
                f"pictures: epochs / snapshot_every gives {self.snapshots():,} snapshots, at most {MAX_SNAPSHOTS:,}:"
                " raise snapshot_every (0: about 50)"
            )

    def log_rows(self) -> int:
        """How many metric rows each member gets: every log_every epochs, and the last (logs_at)."""
        return -(-self.epochs // self.log_every) + ((self.epochs - 1) % self.log_every != 0)

    def snapshots(self) -> int:
        """At most how many picture snapshots the run takes: one per snapshot_every epochs (0: about 50
        over the run), at log rows, and the last (pictures/hook.py)."""
        return min(self.log_rows(), self.epochs // self.snapshot_interval() + 2)

    def snapshot_interval(self) -> int:
        """Epochs between picture snapshots: snapshot_every, or (0) about 50 over the run, never more often
        than the log."""
        return self.snapshot_every or max(self.log_every, self.epochs // 50)

    def _check_custom(self) -> None:
        """The loss is a known name or custom code; the other custom fields are custom code or empty."""
        if self.loss not in LOSS_NAMES and not custom.is_custom(self.loss):
            raise GanfitError(f"unknown loss {self.loss!r} (known: {', '.join(LOSS_NAMES)}, or a function from Python)")
        for name in ("d_penalty", "g_model", "d_model"):
            if getattr(self, name) and not custom.is_custom(getattr(self, name)):
                raise GanfitError(f"{name}: give a function or module from Python, got {getattr(self, name)!r}")
        for name in custom.FIELDS:
            if custom.is_custom(getattr(self, name)):
                custom.get(getattr(self, name))  # held in this process, or one clear line

    def member_values(self) -> dict[str, list]:
        """per_member parsed: {name: one value per member} for the names it gives."""
        out: dict[str, list] = {}
        for part in filter(None, (p.strip() for p in self.per_member.split(";"))):
            name, eq, values = part.partition("=")
            name = name.strip()
            if not eq or name not in PER_MEMBER:
                raise GanfitError(f"per_member: {part!r} is not NAME=V1,V2,... with NAME in {', '.join(PER_MEMBER)}")
            if name in out:
                raise GanfitError(f"per_member: {name} given twice")
            try:
                vals = [_member_value(name, v) for v in values.split(",")]
            except ValueError:
                raise GanfitError(f"per_member: {name} needs {_MEMBER_KINDS.get(name, 'numbers')}") from None
            if len(vals) != self.seeds:
                raise GanfitError(f"per_member: {name} has {len(vals)} values for {self.seeds} members (seeds)")
            bad = [v for v in vals if _out_of_range(name, v)]
            if bad:
                raise GanfitError(f"per_member: {name} = {bad[0]} is out of range")
            out[name] = vals
        return out

    def g_kinds(self) -> list[str] | None:
        """Each member's activation of all G's hidden layers where per_member names them, else None."""
        return self.member_values().get("g_activation")

    def logs_at(self, epoch: int) -> bool:
        """Whether epoch (0-based) gets a metric row: every log_every epochs, and the last."""
        return epoch % self.log_every == 0 or epoch == self.epochs - 1

    def member_seeds(self) -> list[int]:
        """Each member's seed: seed + i, unless per_member names them."""
        return self.member_values().get("seed") or [self.seed + i for i in range(self.seeds)]

    def replace(self, **changes: Any) -> Config:
        """A copy with these fields changed (like dataclasses.replace; data and custom parts may be given)."""
        return dataclasses.replace(self, **changes)

    # --- TOML round trip

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config") -> Config:
        """A checked Config from a table of fields (old names accepted); an unknown field is one GanfitError line."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = renamed(values)
        for key in values:
            if key not in names:
                raise GanfitError(f"{where}: unknown field {key!r}")
        return cls(**values).validate()

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """A checked Config from a config.toml (never executed; custom code only if this process holds it)."""
        values = read_toml(path, f"config file {path}")
        nested = [k for k, v in values.items() if isinstance(v, dict) and k != "provenance"]
        if nested:
            raise GanfitError(f"config file {path}: unknown table [{nested[0]}] (fields are top-level keys)")
        values.pop("provenance", None)  # how the run was made (provenance.py), not what it is
        # custom code is never imported from a file: only parts this process holds, given in Python, are used
        named = [f"{k} = {v!r}" for k, v in values.items() if custom.is_custom(v) and not custom.held(v)]
        if named:
            raise GanfitError(
                f"config file {path}: {named[0]} is custom code given in Python, which a config file cannot bring:"
                " repeat the run from the Python that defines it"
            )
        base = Path(path).absolute().parent
        for name in DATA_FIELDS:  # a data file named relative to the config file: a run's own copies
            if isinstance(values.get(name), str):
                values[name] = rebase(values[name], base)
        return cls.from_dict(values, f"config file {path}")

    def to_toml(self) -> str:
        """The config as TOML, every field under a comment with its meaning: config.toml of a run."""
        lines = ["# ganfit run configuration: `ganfit train --config THIS_FILE` repeats the run.", ""]
        named = [f"{f} = {getattr(self, f)}" for f in custom.FIELDS if custom.is_custom(getattr(self, f))]
        if named:
            lines[0:1] = [
                f"# ganfit run configuration with custom code from Python ({', '.join(named)}):",
                "# `ganfit train --config` cannot repeat it; rerun it from the Python that defined those parts.",
            ]
        for f in dataclasses.fields(self):
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"{f.name} = {_toml_value(getattr(self, f.name))}")
        return "\n".join(lines) + "\n"


DATA_FIELDS = ("target", "validation")  # config fields that may name a data file (csv:, npy:)


def data_path(spec: str) -> str | None:
    """The file a csv: or npy: spec names, else None (a malformed spec is refused where it is built)."""
    try:
        name, params = parse_spec(spec, "target") if spec else ("", {})
    except GanfitError:
        return None
    return params.get("path") if name in ("csv", "npy") else None


def with_path(spec: str, path: str) -> str:
    """The spec with its data file renamed (a path with , ; = or : cannot be written in a spec)."""
    if any(c in path for c in ",;=:"):
        raise GanfitError(f"data file {path}: a path with , ; = or : cannot be named in a data spec; move it")
    name, params = parse_spec(spec, "target")
    return f"{name}:" + ",".join(f"{k}={path if k == 'path' else v}" for k, v in params.items())


def rebase(spec: str, base: Path) -> str:
    """A relative data path in `spec` taken from `base` (a config file's directory, or the working one)."""
    path = data_path(spec)
    if path is None or os.path.isabs(path):
        return spec
    return with_path(spec, os.path.normpath(base / path))


def _plain(value: Any, want: type) -> Any:
    """A numpy integer or float (or a torch one: numbers.Integral, numbers.Real) as Python's own."""
    if isinstance(value, bool) or type(value) in (int, float, str):
        return value
    if want is int and isinstance(value, numbers.Integral):
        return int(value)
    if want is float and isinstance(value, numbers.Real):
        return int(value) if isinstance(value, numbers.Integral) else float(value)
    if want is bool and type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    return value


def renamed(values: dict[str, Any]) -> dict[str, Any]:
    """A table of config fields with old names (RENAMED) under their new ones, in the same order."""
    return {(RENAMED[k] if k in RENAMED and RENAMED[k] not in values else k): v for k, v in values.items()}


def read_toml(path: str | Path, where: str) -> dict[str, Any]:
    """A TOML file's table (parsed, never executed); every failure is one GanfitError line. Only a
    regular file of at most MAX_TOML_BYTES is read: never a FIFO (it would hang) or /dev/zero."""
    # files imports numpy: loaded here, not with the config, so that the CLI's start-up stays light
    from .files import read_regular

    raw = read_regular(path, MAX_TOML_BYTES, where)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise GanfitError(f"{where}: not valid TOML ({e})") from None
    except RecursionError:
        raise GanfitError(f"{where}: not valid TOML (nested too deeply)") from None
    except ValueError as e:  # not UTF-8, or an integer of more than 4,300 digits
        raise GanfitError(f"{where}: cannot read ({e})") from None


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string


FIELDS = {f.name: f for f in dataclasses.fields(Config)}


class ConfigError(GanfitError, TypeError):
    """A Config built with a keyword that is no field (a TypeError too, as a dataclass's would be)."""


def _checked_init(init):
    """Config's __init__, with an unknown keyword (or one too many arguments) as one ConfigError line."""

    @functools.wraps(init)
    def checked(self, *args, **kwargs):
        unknown = [k for k in kwargs if k not in FIELDS]
        if unknown:
            raise ConfigError(f"Config: unknown field {unknown[0]!r} (the fields: ganfit train --help)")
        if len(args) > len(FIELDS):
            raise ConfigError(f"Config: {len(args)} positional values for {len(FIELDS)} fields")
        init(self, *args, **kwargs)

    return checked


Config.__init__ = _checked_init(Config.__init__)
# The field groups of --help and of Config's docstring: (title, first field), in field order.
SECTIONS = (
    ("R and I: what to learn, from what", "target"),
    ("G and D", "g_hidden"),
    ("the game", "loss"),
    ("the ensemble and the machine", "seed"),
    ("pictures and logs", "pictures"),
)


def sections() -> list[tuple[str, list[str]]]:
    """[(title, [field names])] covering every field once, in order."""
    names, starts = list(FIELDS), [first for _, first in SECTIONS]
    cuts = [names.index(s) for s in starts] + [len(names)]
    return [(title, names[a:b]) for (title, _), a, b in zip(SECTIONS, cuts, cuts[1:])]


def _docstring() -> str:
    lines = [Config.__doc__, ""]
    for title, names in sections():
        lines.append(f"{title}:")
        for n in names:
            most = f" (at most {MAX[n]:,})" if n in MAX else ""
            lines.append(f"    {n} = {FIELDS[n].default!r}: {FIELDS[n].metadata['doc']}{most}")
    return "\n".join(lines)


Config.__doc__ = _docstring()

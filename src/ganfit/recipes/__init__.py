"""Named presets: each recipe is a whole config in a TOML file of this folder, to read and copy.

`ganfit train --recipe NAME` starts from recipes/NAME.toml (flags still override it). The files are
generated from Config by `python -m ganfit.recipes` (so every field is there, with its comment); the
choices are written in RECIPES below, beside why.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..errors import GanfitError

HERE = Path(__file__).parent

# The robust recipes' game: non-saturating loss, D's learning rate 10x G's, Adam (0.5, 0.999), batch
# 256, and G's weights averaged over about its last 1,000 steps.
_GAME = dict(loss="ns", batch=256, lr_d=1e-3, lr_g=1e-4, beta1=0.5, beta2=0.999, g_ema=0.999)

# The 2-D recipes: that game with a per-pair D (PacGAN, m=2) and a light R1, data in its own units
# (normalize off: the modes' geometry is the point), 40,000 epochs. The average of G is what lifts
# the fraction of samples within 3 std of a mode past 95% (docs/benchmarks.md).
_2D = _GAME | dict(
    normalize=False,
    noise="normal:dim=2",
    g_hidden=128,
    g_activations="relu,relu,relu",
    d_view="pack:m=2",
    d_hidden=128,
    d_activations="leaky_relu,leaky_relu",
    r1=0.1,
    epochs=40000,
    log_every=1000,
    eval_samples=2500,
    seeds=10,
)

# `ganfit fit`'s recipes: a user's small data, split into train and validation parts, in a standardised
# frame (fitting.py fills target and validation). No MMD against the train part at each row in 2-D: fit
# watches the validation part's, and the train part's cost a quakes lat/long fit 0.8-1.4 s (the same fit,
# bit for bit; docs/benchmarks.md, section 5).
_FIT = dict(frame_mean=0.0, frame_std=1.0, target_mmd=False)

RECIPES: dict[str, dict] = {
    # The article's experiment, exactly the defaults.
    "seed": {},
    # 1-D targets: that game with Gaussian noise (G starts near a monotone map), one D output per
    # sample and R1 (gamma 1 in a standardised frame). The average of G matters: on N(4, 1.25), 64
    # seeds, KS < 0.03 in 54 without it and 64 with it (docs/benchmarks.md).
    "robust1d": _GAME
    | dict(
        noise="normal:dim=1",
        frame_mean=0.0,
        frame_std=1.0,
        g_activations="elu,elu",
        d_view="sample",
        d_activations="elu,elu",
        r1=1.0,
        epochs=4000,
    ),
    "ring": _2D | {"target": "ring:modes=8,radius=2,std=0.02"},
    # 1-D data: robust1d's game, 6 members, each member's weights at its lowest W1 to the validation part,
    # stopped after 8 log rows without a new lowest (2,500 epochs at most: docs/benchmarks.md, section 5).
    "fit1d": _GAME
    | _FIT
    | dict(
        noise="normal:dim=1",
        g_activations="elu,elu",
        d_view="sample",
        d_activations="elu,elu",
        r1=1.0,
        epochs=2500,
        seeds=6,
        log_every=100,
        eval_samples=2000,
        keep_best="val_w1",
        early_stop="val_w1",
        early_stop_patience=8,
    ),
    # 2-D data: the 2-D recipes' game (PacGAN2, R1, G's average) with smaller nets, in a standardised frame
    # (`ganfit fit` adds FIT_MEMBERS below).
    "fit2d": _GAME
    | _FIT
    | dict(
        noise="normal:dim=2",
        g_hidden=64,
        g_activations="relu,relu,relu",
        d_view="pack:m=2",
        d_hidden=64,
        d_activations="leaky_relu,leaky_relu",
        r1=0.1,
        epochs=2500,
        seeds=6,
        log_every=200,
        eval_samples=2000,
        keep_best="val_sw",
        early_stop="val_sw",
        early_stop_patience=8,
    ),
    # The grid's 25 modes need G to move faster: lr_g 3e-4 (on 3 seeds x 20,000 epochs, high quality
    # 0.92-0.94 against 0.39-0.70 at 1e-4, 0.85-0.94 at 1e-3 and 0.19-0.88 with D at 3e-4 too). Its
    # low-quality samples are bridges, lines G draws between modes: a batch of 512 leaves 3.0% of the
    # samples there against 3.9% at 256. Late in training the live G sometimes re-assigns its noise to
    # modes, and the average of its weights falls apart for ~2,000 epochs (3 of 20 seeds at 27,000-
    # 29,000); both rates' decay over the last 40% of the epochs stops that (docs/benchmarks.md).
    "grid": _2D
    | {"target": "grid:n=5,spacing=2,std=0.05", "lr_g": 3e-4, "epochs": 30000, "batch": 512, "lr_decay": 0.4},
}


# `ganfit fit`'s members. On 2-D data half with G at 3e-4, where clustered data still improve at 2,500
# epochs, and validation chooses among all six (ten splits each: quakes lat/long 0.132 -> 0.124,
# faithful's pair 0.142 -> 0.140, cats 0.231 -> 0.240). On 1-D data half with a ReLU G, which learns
# separated clusters better, and half ELU's, which fits depth and rivers better; fit takes each kind's
# best member through its critics and kernel and keeps the kind validation prefers (twenty splits: the
# eruptions 1.10x -> 1.05x the best expert, the geyser durations 1.12x -> 1.05x, rivers 0.95x -> 0.98x;
# docs/benchmarks.md, section 5). Not in the TOMLs: `train --recipe fit1d`, the lab and sweeps keep one
# G, which --lr-g, --g-activations and --seeds change.
FIT_MEMBERS = {"fit1d": "g_activation=elu,elu,elu,relu,relu,relu", "fit2d": "lr_g=1e-4,1e-4,1e-4,3e-4,3e-4,3e-4"}
IMPLIED = {"g_activation": {"g_activations", "g_model"}}  # a user's field that a per-member value would undo


def for_fit(name: str, fields=()) -> Config:
    """Recipe `name` as `ganfit fit` starts from it: with its FIT_MEMBERS, unless `fields` (the user's)
    set the members' count or a field those name (or one they would undo: the user's g_activations)."""
    config = load(name)
    members = FIT_MEMBERS.get(name)
    named = {"seeds", "per_member"} | {part.split("=")[0] for part in (members or "").split(";")}
    named |= {f for n in list(named) for f in IMPLIED.get(n, ())}
    if members and not named & set(fields):
        config = config.replace(per_member=members)
    return config


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.toml"))


def path(name: str) -> Path:
    p = HERE / f"{name}.toml"
    if not name.replace("_", "").isalnum() or not p.is_file():
        raise GanfitError(f"unknown recipe {name!r} (known: {', '.join(names())})")
    return p


def load(name: str) -> Config:
    return Config.from_toml(path(name))


def write_all() -> None:
    for name, changes in RECIPES.items():
        (HERE / f"{name}.toml").write_text(Config(**changes).validate().to_toml())

"""One lab session: ganfit's own game, played a few epochs at a time so that a page can watch it.

A Session holds what `training._train` holds for a run (the Game, the counter-based draws, the fixed
eval noise, Health and the MetricLog) and plays the epochs the way `training._play` does: blocks of
draws aligned to the same epochs, the same metric rows at the same log epochs, collected at the same
checkpoint epochs. So a session that plays N epochs of a config holds the weights and rows that `ganfit
train` ends with after N epochs of it (tests/lab/test_session.py). What a run has and a session adds:
settings changed mid-run (`retune`: the game is rebuilt on the new config and its state carried over),
D's steps alone (`d_only`) and G's (`g_only`), snapshots kept on the host for the page's time slider, and
`save`, which writes an ordinary, resumable run directory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import budget, provenance
from ..config import Config
from ..errors import GanfitError
from ..game import Game, Plan, eval_noise, native, rng
from ..measure import Health
from ..metric_log import LogRow, Loop, MetricLog
from ..pictures.capture import Capture
from ..pictures.snapdata import SNAPSHOTS, SnapData
from ..run import Run
from ..rundir import checkpoint, layout
from ..rundir.layout import METRICS
from ..training import DRAW_BUDGET

# Settings a learner may change mid-run (as in GAN Lab): none changes a tensor's shape, so the state
# carries over to the rebuilt game. Everything else (widths, view, noise, target, K) starts a new game.
LIVE = (
    *("optimizer", "lr_d", "lr_g", "beta1", "beta2", "loss", "d_steps", "g_steps"),
    *("r1", "r2", "gp", "epochs", "log_every"),
)
LIVE_SAMPLES = (2_000, 600)  # eval samples a live frame draws in 1-D, 2-D (a snapshot: all, as a run's pictures)
MAX_SNAPSHOTS = 2_000  # kept for the time slider; past that every other one goes (about 80 MB in 2-D at most)


@dataclass
class Snapshot:
    """A capture of the game at a log epoch (capture.py's arrays, on the host)."""

    epoch: int
    arrays: dict[str, np.ndarray]


class Session:
    """A game being played for the page (see the module's doc). Not thread-safe: one driver thread calls it."""

    def __init__(self, config: Config):
        plan = Plan.of(config)  # validated, sizes, engine and threads worked out once, as train() does
        budget.check(plan)  # a width or K past what the machine holds is one line, before anything allocates
        config = plan.config
        self.epoch = 0
        self.history: list[dict] = []  # metrics.jsonl's rows so far (MetricLog appends them)
        self.snapshots: list[Snapshot] = []
        self.last = None  # the latest (losses, fake) the engine returned
        self.past: SnapData | None = None  # an opened run's snapshots.npz, for the time slider
        self.notes: list[str] = []  # what the session did beyond `ganfit train` (sub-steps, settings changed)
        self._build(config, game=Game.build(plan))

    def _build(self, config: Config, state: dict[str, torch.Tensor] | None = None, game: Game | None = None) -> None:
        game = game or Game.build(config)
        device = game.G.device
        if state is not None:
            game.load_state(state, self.epoch)
        self.game, self.config = game, game.config
        self.keys = rng.member_keys(config.member_seeds(), "train", device)
        self.eval_z = eval_noise(config, game.noise, device)
        params = game.g_params() + list(game.D.parameters())
        c = config
        self.health = Health(params, c.early_stop, c.early_stop_patience, c.early_stop_delta, c.keep_best)
        if state is not None:
            self.health.load_state(state)
        self.rows: list[LogRow] = []  # the metric rows since the page last took them
        self.log = MetricLog(Loop(game, self.eval_z, self.health), None, self.history, 0, [self.rows.append])
        self.capture = Capture(game, self.eval_z)  # snapshots at log rows: as a run's pictures take them
        live = LIVE_SAMPLES[game.target.dim - 1]
        self.live = Capture(game, self.eval_z[:, :live])  # the page's frames: the same grids, fewer samples
        self.block = max(1, DRAW_BUDGET // (self.keys.shape[0] * game.plan.uniforms_per_epoch))
        self.drawn, self.first = None, 0
        self.half: tuple | None = None  # D's losses of an epoch whose D steps alone were played (d_half)

    @property
    def finished(self) -> bool:
        return self.epoch >= self.config.epochs or self.health.all_frozen()

    def play(self, n: int) -> int:
        """Up to n epochs (fewer at the end of the run); returns how many were played."""
        if self.settle():
            return 1 + self.play(n - 1) if n > 1 else 1
        c, start = self.config, self.epoch
        if torch.get_num_threads() != c.threads:  # as train() plays it: the thread count can change rounding
            torch.set_num_threads(c.threads)
        while self.epoch < start + n and not self.finished:
            t = self._draw()
            m = min(start + n - self.epoch, _until_event(c, self.epoch, self.first + len(self.drawn)))
            self.last = self.game.play(self.drawn, t, t + m)
            self.epoch += m
            self._events(self.drawn.real[t + m - 1, -1])
        return self.epoch - start

    def _draw(self) -> int:
        """The draws that hold this epoch, drawn if they are not yet; returns the epoch's index in them."""
        if self.drawn is None or not self.first <= self.epoch < self.first + len(self.drawn):
            self.first = self.epoch - self.epoch % self.block  # aligned as training's blocks are
            self.drawn = self.game.draw(self.keys, self.first, min(self.block, self.config.epochs - self.first))
        return self.epoch - self.first

    def _events(self, real_batch: torch.Tensor) -> None:
        """What training does after its epochs: a metric row at a log epoch, a collect at a checkpoint epoch."""
        c, e = self.config, self.epoch
        if c.logs_at(e - 1):
            self.log.submit(e - 1, self.last, real_batch)
            self.snapshots.append(Snapshot(e - 1, {k: v.float().cpu().numpy() for k, v in self.capture.take().items()}))
            if len(self.snapshots) > MAX_SNAPSHOTS:
                del self.snapshots[1::2]
        if e % c.checkpoint_every == 0 or e == c.epochs:
            self.log.collect()

    def d_only(self) -> None:
        """One epoch's D steps alone (GAN Lab's "train D only"): the epoch is played and G's state (its
        weights, Adam's moments, its average) put back as they were, which is exactly D's steps, since
        D steps before G in an epoch. The draws of the next epoch are used and the epoch counter moves."""
        self.settle()
        saved = {k: v.clone() for k, v in self.game.state().items() if k.startswith("G.")}
        self.play(1)
        self.game.load_state(self.game.state() | saved, self.epoch)
        self.notes.append(f"epoch {self.epoch - 1}: D's steps only")

    def d_half(self) -> None:
        """Slow motion's first half of the next epoch: its D steps alone, the epoch not yet counted;
        g_half (or anything that plays on) finishes it. The two halves are that epoch exactly: D steps
        before G, and G's steps against the moved D are what g_only plays."""
        if self.finished or self.half is not None:
            return
        saved = {k: v.clone() for k, v in self.game.state().items() if k.startswith("G.")}
        t = self._draw()
        losses, fake = self.game.play(self.drawn, t, t + 1)
        self.half = tuple(x.clone() for x in losses()[:2])  # D's, from buffers the next step writes over
        self.last = (_frozen(losses()), fake)
        self.game.load_state(self.game.state() | saved, self.epoch)

    def settle(self) -> bool:
        """Finish an epoch that slow motion left halfway (its G steps); whether there was one."""
        if self.half is None:
            return False
        self.g_half()
        return True

    def g_half(self) -> None:
        """Slow motion's second half: the epoch's G steps (see d_half); a metric row reports its D losses
        as its D steps gave them, as a whole epoch's row does."""
        d_real, d_fake = self.half
        self.half = None
        self.g_only(note=False, d_losses=(d_real, d_fake))

    def g_only(self, note: bool = True, d_losses: tuple | None = None) -> None:
        """One epoch's G steps alone (GAN Lab's "train G only"), against D as the page shows it: the epoch
        is played with D's learning rate at 0 and D's state (Adam's moments, its step count) put back
        after. The draws of the next epoch are used and the epoch counter moves."""
        if note:
            self.settle()
        if self.finished:
            return
        saved = {k: v.clone() for k, v in self.game.state().items() if k.startswith("D.")}
        t = self._draw()
        losses, fake = self.game.play_g_only(self.drawn, t)
        if d_losses is not None:
            losses = _frozen((*d_losses, losses()[2].clone()))
        self.last = (losses, fake)
        self.epoch += 1
        self.game.load_state(self.game.state() | saved, self.epoch)
        self._events(self.drawn.real[t, -1])
        if note:
            self.notes.append(f"epoch {self.epoch - 1}: G's steps only")

    def retune(self, **changes) -> None:
        """Change settings mid-run (LIVE): the game is rebuilt on the new config and takes the old one's
        state, so the next epochs use the new values. A change the running engine cannot carry (e.g.
        to a loss only autograd plays) is refused with the reason."""
        self.settle()  # the settings apply from a whole epoch on
        bad = [k for k in changes if k not in LIVE]
        if bad:
            raise GanfitError(f"{bad[0]} cannot change mid-run (it changes the nets' shapes): start a new game")
        config = self.config.replace(**changes).validate()
        if config.epochs < self.epoch:
            raise GanfitError(f"epochs {config.epochs}: this game has played {self.epoch} already")
        budget.check(config)
        game = Game.build(config)
        if set(game.state()) != set(self.game.state()):
            raise GanfitError(
                f"that change moves the game from the {self.game.engine.name} engine to the {game.engine.name} one,"
                " which keeps its state differently: start a new game with it"
            )
        self.log.collect()
        self.log.close()
        state = {k: v.clone() for k, v in (self.game.state() | self.health.state()).items()}
        self._build(config, state, game)
        shown = ", ".join(f"{k}={v}" for k, v in changes.items())
        self.notes.append(f"epoch {self.epoch}: {shown}")

    def losses(self) -> np.ndarray | None:
        """The last epoch's losses [3, K] (D on real, D on fake, G), or None before the first epoch."""
        if self.last is None:
            return None
        return np.stack([x.float().cpu().numpy() for x in self.last[0]()])

    def close(self) -> None:
        self.log.close()

    def save(self, out: Path) -> Path:
        """The session as an ordinary run directory: config.toml, metrics.jsonl, weights.safetensors,
        summary.json, snapshots.npz and checkpoint.safetensors (so `ganfit train --resume` continues it
        and `ganfit sample` and `report` read it). Written under a temporary name and renamed."""
        self.settle()  # a run directory holds whole epochs
        self.log.collect()
        if out.exists():
            raise GanfitError(f"{out} already exists: choose another name")
        tmp = out.with_name(f".{out.name}.partial")
        if tmp.exists():
            layout.discard(tmp)
        try:
            self._write(tmp)
            tmp.rename(out)
        except (GanfitError, OSError) as e:
            if tmp.is_dir():
                layout.discard(tmp)
            raise GanfitError(f"cannot save the run as {out}: {e}") from None
        return out

    def _write(self, d: Path) -> None:
        g, c = self.game, self.config
        made_by = provenance.collect(native.platform_info())  # once: config.toml's table and the summary's
        config = layout.create(d, c, made_by)
        rows = [r for r in self.history if r["epoch"] < self.epoch]
        text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows)
        (d / METRICS).write_text(text)
        checkpoint.save(d, g.state() | self.health.state(), self.epoch, len(text.encode()))
        G = g.G if g.ema is None else g.G.sharing(g.ema)  # the G a run saves: its average where g_ema is on
        run = Run(config, G, g.D, g.frame, list(g.target.columns), d, history=rows)
        final = layout.last_rows(rows, c.seeds) if rows else {}
        statuses = [self.health.status(k) for k in range(c.seeds)]
        status = "finished" if self.epoch >= c.epochs else "interrupted"
        outcome = layout.Outcome(status, self.epoch, 0.0, self.epoch)
        run.summary = layout.summary(c, g.target, final, statuses, outcome) | {
            "engine": g.engine.name,
            "provenance": made_by,
            "lab": self.notes,  # what the session did that a `ganfit train` of config.toml would not
        }
        run.write_results()
        snaps = self.snap_data()
        if snaps is not None:
            snaps.save(d / SNAPSHOTS)

    def snap_data(self) -> SnapData | None:
        """The snapshots as a run's snapshots.npz holds them (pictures/snapdata.py): an opened run's
        before this session's own, where their arrays agree in shape; None if there are none."""
        past = self.past
        first = self.snapshots[0].epoch if self.snapshots else math.inf
        if not self.snapshots:
            return past
        names = self.snapshots[0].arrays
        own = {k: np.stack([s.arrays[k] for s in self.snapshots]) for k in names}
        epochs = np.array([s.epoch for s in self.snapshots])
        if past is not None and all(past.has(k) and past[k].shape[1:] == own[k].shape[1:] for k in names):
            keep = past.epochs < first
            own = {k: np.concatenate([past[k][keep], v]) for k, v in own.items()}
            epochs = np.concatenate([past.epochs[keep], epochs])
        return SnapData(self.capture.meta(), epochs, own | self.capture.fixed())


def _frozen(losses: tuple) -> Callable[[], tuple]:
    """A losses() that gives tensors already read (and copied) from the engine's buffers."""
    kept = tuple(x.clone() for x in losses)
    return lambda: kept


def _until_event(c: Config, epoch: int, end: int) -> int:
    """Epochs to play from `epoch` before a metric row, a checkpoint epoch or the block's `end`."""
    n = 1
    while epoch + n < end and not c.logs_at(epoch + n - 1) and (epoch + n) % c.checkpoint_every:
        n += 1
    return n

"""The training loop: the seed's alternating game, played by K independent GANs at once.

Each epoch: `d_steps` times, D learns to label a real batch 1 and a batch of G's samples 0 (G's output
detached); then `g_steps` times, G learns to make D say 1, with only G's weights updated. Randomness
for a block of epochs is drawn ahead in one go from counter-based streams (rng.py), and nothing in the
step reads a value back to the host; metrics are computed every `log_every` epochs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import adam, checkpoint, fast, losses, rng, rundir
from . import metrics as M
from .adam import MemberAdam
from .config import Config
from .errors import GanfitError
from .fast import FastGame
from .health import Health
from .losses import d_loss, g_loss  # noqa: F401 (their home was here)
from .models import MLP, make_view, parse_activations
from .noise import Noise, make_noise
from .run import Frame, Run, generator_for, jsonable, write_text
from .snapshots import Snapshots
from .targets import Target, make_target

DRAW_BUDGET = 1 << 17  # uniforms drawn per block: small enough that int64 temporaries stay in cache


@dataclass
class Game:
    """Everything a config builds: the five parts and the optimisers."""

    config: Config
    target: Target
    noise: Noise
    frame: Frame
    view: object
    G: MLP
    D: MLP
    opt_d: torch.optim.Optimizer | None
    opt_g: torch.optim.Optimizer | None
    fast: FastGame | None = None
    ema: list[torch.Tensor] | None = None  # the moving average of G's parameters (g_ema > 0)
    g_live: list[torch.Tensor] = field(default_factory=list)  # G's parameters, detached, set by build
    epochs_done: int = 0  # a host-side count: the average's warm-up needs it, and reading it costs nothing
    pending_eps: list = field(default_factory=list)  # gp's eps for the drawn epochs not yet stepped

    @classmethod
    def build(cls, config: Config) -> Game:
        config.validate()
        target, noise = make_target(config.target), make_noise(config.noise)
        view = make_view(config.d_view)
        device = _device(config.device)
        seeds = config.member_seeds()
        G = generator_for(config, target.dim, seeds, device)
        d_acts = parse_activations(config.d_activations, "d_activations")
        D = MLP(
            [view.features(config.batch, target.dim)] + [config.d_hidden] * len(d_acts) + [1],
            d_acts,
            seeds,
            "init_d",
            device,
            spectral=config.spectral_norm,
        )
        game = cls(config, target, noise, Frame.for_target(target, config), view, G, D, None, None)
        if config.engine == "fast" and not fast.supports(game):
            raise GanfitError(
                "engine 'fast' covers loss bce with the minibatch view and no gp, r1, r2 or spectral_norm;"
                f" use engine 'autograd' for {config.loss} / {config.d_view}"
            )
        if config.engine != "autograd" and fast.supports(game):
            game.fast = fast.FastGame(game)
        else:
            betas = (config.beta1, config.beta2)
            for name, net in (("d", D), ("g", G)):
                settings = adam.member_settings(config, name, device)
                lr = getattr(config, f"lr_{name}")
                opt = (
                    MemberAdam(net.parameters(), settings)
                    if settings
                    else torch.optim.Adam(net.parameters(), lr=lr, betas=betas, foreach=True)
                )
                setattr(game, f"opt_{name}", opt)
        game.g_live = [p.detach() for p in G.parameters()]  # views of the trained tensors (fast.py's too)
        if config.g_ema:
            game.ema = [p.clone() for p in game.g_live]
        return game

    def draw(self, keys: torch.Tensor, first: int, count: int) -> tuple[torch.Tensor, ...]:
        """Real batches and noise for epochs [first, first + count): [count, steps, K, B, dim] each."""
        c, t, z = self.config, self.target, self.noise
        K, B = keys.shape[0], c.batch
        n_real, n_noise = B * t.n_uniforms, B * z.n_uniforms
        d_width = c.d_steps * (n_real + n_noise)
        width = d_width + c.g_steps * n_noise
        u = rng.uniform(keys, torch.arange(first, first + count, device=keys.device), width + self._eps_width())
        if c.gp:  # WGAN-GP's eps, one per sample, from the slots after the noise; step() takes them in order
            eps = u[..., width:].reshape(count, K, c.d_steps, B, 1).transpose(1, 2)
            self.pending_eps = list(eps.unbind(0))
        d_part = u[..., :d_width].reshape(count, K, c.d_steps, n_real + n_noise)
        real = t.sample(d_part[..., :n_real].reshape(count, K, c.d_steps, B, t.n_uniforms))
        z_d = z.sample(d_part[..., n_real:].reshape(count, K, c.d_steps, B, z.n_uniforms))
        z_g = z.sample(u[..., d_width:width].reshape(count, K, c.g_steps, B, z.n_uniforms))
        steps_first = (0, 2, 1, 3, 4)
        return (
            self.frame.to_frame(real).permute(steps_first).contiguous(),
            z_d.permute(steps_first).contiguous(),
            z_g.permute(steps_first).contiguous(),
        )

    def _eps_width(self) -> int:
        return self.config.d_steps * self.config.batch if self.config.gp else 0

    def step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor):
        """One epoch for all members. Returns (losses, fake): a function giving the per-member D real,
        D fake and G losses of this epoch, and the fake batch of the last D step."""
        if self.config.lr_decay:
            self._scale_lr(lr_scale(self.config, self.epochs_done))
        out = self.fast.step(real, z_d, z_g) if self.fast else self._step(real, z_d, z_g)
        self.epochs_done += 1
        if self.ema is not None:
            # Warm-up (as StyleGAN's G_ema): early on the average spans about a tenth of the epochs so
            # far, so that it forgets the random initial weights instead of decaying from them.
            t = self.epochs_done
            decay = min(self.config.g_ema, (1 + t) / (10 + t))
            torch._foreach_lerp_(self.ema, self.g_live, 1.0 - decay)
        return out

    def _scale_lr(self, scale: float) -> None:
        """Both optimisers take `scale` times their configured learning rates from this step on."""
        if self.fast:
            self.fast.G.lr_scale = self.fast.D.lr_scale = scale
            return
        for opt, lr in ((self.opt_d, self.config.lr_d), (self.opt_g, self.config.lr_g)):
            if isinstance(opt, MemberAdam):
                opt.lr_scale = scale
            else:
                for group in opt.param_groups:
                    group["lr"] = lr * scale

    def g_params(self) -> list[torch.Tensor]:
        """G's parameters as the run evaluates and saves them: the moving average when g_ema is on."""
        return self.ema if self.ema is not None else list(self.g_live)

    def use_ema(self) -> None:
        """At the end of training: G's weights become their moving average (when g_ema is on)."""
        if self.ema is not None:
            with torch.no_grad():
                torch._foreach_copy_(self.g_live, self.ema)

    def _step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor):
        c, G, D, view = self.config, self.G, self.D, self.view
        if c.gp and not self.pending_eps:
            raise RuntimeError("gp needs draw() for the epochs stepped: it draws eps with the batches")
        eps = self.pending_eps.pop(0) if c.gp else None
        for s in range(c.d_steps):
            with torch.no_grad():
                fake = G(z_d[s])
            if D.spectral:
                D.power_iteration()
            logits = D(torch.cat([view(real[s]), view(fake)], 1))
            rows = logits.shape[1] // 2
            l_real, l_fake = d_loss(logits[:, :rows], logits[:, rows:], c.loss)
            total = l_real + l_fake
            reg = losses.penalties(c, D, view, real[s], fake, None if eps is None else eps[s])
            if reg is not None:
                total = total + reg
            self.opt_d.zero_grad(set_to_none=True)
            total.sum().backward()  # a sum over members: each member's gradient is its own
            self.opt_d.step()
        for s in range(c.g_steps):
            l_g = g_loss(D(view(G(z_g[s]))), c.loss)
            self.opt_g.zero_grad(set_to_none=True)
            l_g.sum().backward(inputs=list(G.parameters()))  # D's weights are left untouched
            self.opt_g.step()
        return (lambda: (l_real.detach(), l_fake.detach(), l_g.detach())), fake

    def state(self) -> dict[str, torch.Tensor]:
        """Every tensor the rest of training depends on (the random numbers have no state: rng.py)."""
        out = {f"G.ema.{i}": t for i, t in enumerate(self.ema or [])}
        if self.fast:
            parts = ("theta", "exp_avg", "exp_avg_sq", "steps")
            nets = (("G", self.fast.G), ("D", self.fast.D))
            return out | {f"{n}.{p}": getattr(net, p) for n, net in nets for p in parts}
        for name, net, opt in (("G", self.G, self.opt_g), ("D", self.D, self.opt_d)):
            for i, p in enumerate(net.parameters()):
                s = opt.state.get(p) or {
                    "step": torch.zeros(()),
                    "exp_avg": torch.zeros_like(p),
                    "exp_avg_sq": torch.zeros_like(p),
                }
                out |= {f"{name}.{i}.param": p.detach()} | {
                    f"{name}.{i}.{k}": s[k] for k in ("step", "exp_avg", "exp_avg_sq")
                }
        return out

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            if self.fast:
                for name, live in self.state().items():
                    live.copy_(tensors[name])
                return
            for i, t in enumerate(self.ema or []):
                t.copy_(tensors[f"G.ema.{i}"])
            for name, net, opt in (("G", self.G, self.opt_g), ("D", self.D, self.opt_d)):
                for i, p in enumerate(net.parameters()):
                    p.copy_(tensors[f"{name}.{i}.param"])
                    opt.state[p] = {
                        k: tensors[f"{name}.{i}.{k}"].clone().to(p.device if k != "step" else "cpu")
                        for k in ("step", "exp_avg", "exp_avg_sq")
                    }


def lr_scale(config: Config, epoch: int) -> float:
    """The learning rates' factor at epoch (0-based): 1, then in the last n = lr_decay * epochs epochs a
    straight line from 1 down to 1/n at the last epoch."""
    n = round(config.lr_decay * config.epochs)
    left = config.epochs - epoch
    return 1.0 if left > n else left / n


def _device(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GanfitError(f"device {name!r}: CUDA is not available on this machine (use --device cpu)")
    return torch.device(name)


def default_threads(config: Config) -> int:
    """One thread for small ensembles, where a second one gains at most 20% (K = 16); from K * batch =
    3,200 (K = 32 on the defaults), as many as there are idle cores (+50% on 2 idle cores): a thread
    that has to share its core with another busy process slows every op down (docs/performance.md)."""
    if config.threads:
        return config.threads
    cores = os.cpu_count() or 1
    if config.seeds * config.batch < 3200 or cores == 1:
        return 1
    return max(1, min(cores, round(cores - os.getloadavg()[0])))


def _status(epoch: int, losses, real: torch.Tensor, fake: torch.Tensor, row: dict[str, np.ndarray], K: int) -> str:
    """The seed's status line for member 0, plus a one-line digest of the ensemble."""
    lr, lf, lg = (float(x[0]) for x in losses)
    r, f = real[0].double(), fake[0].double()
    line = (
        f"{epoch}: D: {lr:.4f}/{lf:.4f} G: {lg:.4f} (Real: [{r.mean():.4f}, {r.std(unbiased=False):.4f}], "
        f"Fake: [{f.mean():.4f}, {f.std(unbiased=False):.4f}])"
    )
    if K > 1 and "mean" in row:
        line += (
            f"\n    ensemble of {K}: median mean {np.nanmedian(row['mean']):.3f}, median std "
            f"{np.nanmedian(row['std']):.3f}, median KS {np.nanmedian(row['ks']):.3f}, "
            f"learned {int(row['learned'].sum())}/{K}"
        )
    elif "sw" in row:  # 2-D: the distances and, for mixtures, the mode metrics
        with np.errstate(all="ignore"):
            line += f"\n    ensemble of {K}: median sliced W1 {np.nanmedian(row['sw']):.4f}"
            if "modes" in row:
                line += f", modes {np.nanmedian(row['modes']):g}, HQ {np.nanmedian(row['hq']):.3f}"
            line += f", learned {int(row['learned'].sum())}/{K}"
    return line


def train(config: Config, out: str | Path | None = None, progress=None, resume: bool = False) -> Run:
    """Train config.seeds GANs together; write the run directory `out` (if given); return the Run.

    With resume=True, `out` is an existing run directory: training continues from its last checkpoint
    and ends bit for bit where an uninterrupted run would. `progress`, if given, is told
    `start(total)`, `update(epoch, line)` at every log row and `close()`.
    """
    if not config.threads:  # resolved and recorded: the thread count can change float rounding
        config = config.replace(threads=default_threads(config))
    game = Game.build(config)
    c = game.config
    seeds = c.member_seeds()
    run_dir = Path(out) if out is not None else None
    if run_dir and not resume:
        rundir.create(run_dir, c)
    with contextlib.ExitStack() as stack:
        if run_dir:
            stack.enter_context(checkpoint.RunLock(run_dir))
            if resume and (run_dir / "config.toml").read_text() != c.to_toml():
                write_text(run_dir / "config.toml", c.to_toml())  # a resume asked for more epochs
        stop = stack.enter_context(checkpoint.StopSignals())
        stack.callback(torch.set_num_threads, torch.get_num_threads())
        torch.set_num_threads(c.threads)
        return _loop(game, seeds, run_dir, resume, stop, progress)


def _loop(game: Game, seeds: list[int], run_dir: Path | None, resume: bool, stop, progress) -> Run:
    c, target, frame, K = game.config, game.target, game.frame, len(seeds)
    device = game.G.weights[0].device
    keys = rng.member_keys(seeds, "train", device)
    eval_z = game.noise.sample(
        rng.uniform(
            rng.member_keys(seeds, "eval", device),
            torch.zeros(1, dtype=torch.int64, device=device),
            c.eval_samples * game.noise.n_uniforms,
        )[0].reshape(K, c.eval_samples, game.noise.n_uniforms)
    )
    log_at = set(range(0, c.epochs, c.log_every)) | {c.epochs - 1}
    per_epoch = c.batch * (c.d_steps * (target.n_uniforms + game.noise.n_uniforms) + c.g_steps * game.noise.n_uniforms)
    block = max(1, DRAW_BUDGET // (K * per_epoch))
    health = Health(
        game.g_params() + list(game.D.parameters()), c.early_stop, c.early_stop_patience, c.early_stop_delta
    )

    epoch, history, metrics_bytes = 0, [], 0
    if resume:
        checkpoint.remove_stale_temporaries(run_dir)
        tensors, epoch, metrics_bytes = checkpoint.load(run_dir, game.state() | health.state())
        game.load_state(tensors)
        game.epochs_done = epoch
        health.load_state(tensors)
        if epoch >= c.epochs and rundir.finished(run_dir):
            raise GanfitError(f"{run_dir} has finished its {epoch} epochs: resume with --epochs N (N > {epoch})")
        history = rundir.read_metrics(run_dir / "metrics.jsonl", metrics_bytes)
    metrics_file = open(run_dir / "metrics.jsonl", "ab") if run_dir else None
    final: dict[str, np.ndarray] = {}
    samples = np.empty(0)
    snaps = Snapshots.start(game, eval_z, run_dir)  # pictures and TensorBoard (snapshots.py); None when off

    worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ganfit-metrics")
    pending: list = []

    def evaluate(g_params) -> tuple[np.ndarray, dict]:  # on the worker thread
        x = frame.to_data(game.G.evaluate(eval_z, params=g_params)).cpu().numpy()
        row = M.compute(x, target)
        return x, row | {"learned": M.judge(row, target)}

    def log(epoch: int, out, real_batch: torch.Tensor, write: bool = True) -> None:
        """At a log epoch: copy what its row needs and hand the metrics to the worker thread, so that
        training goes on (on the other core) meanwhile. The row is collected at the next log epoch or
        checkpoint: always the same epochs, so rows, health and resumes stay deterministic."""
        collect()
        losses = [x.cpu().numpy() for x in out[0]()]
        if snaps:
            snaps.take_frame(epoch)
        params = health.snapshot()  # G's weights, then its biases, then D's: the order Health was given
        n = len(game.G.weights)
        job = worker.submit(evaluate, (params[:n], params[n : 2 * n]))
        pending.append((job, epoch, losses, params, write, real_batch, out[1]))

    def collect() -> None:
        nonlocal final, samples, metrics_bytes
        if not pending:
            return
        job, epoch, losses, params, write, real_batch, fake = pending.pop()
        samples, row = job.result()
        health.check(epoch, losses, row, params)
        final = row | {"d_loss_real": losses[0], "d_loss_fake": losses[1], "g_loss": losses[2]}
        lines = []
        for k in range(K):
            rec = {"epoch": epoch, "member": k, "seed": seeds[k], "status": health.status(k)[0]}
            rec = jsonable(rec | {n: v[k] for n, v in final.items()})
            history.append(rec)
            lines.append(json.dumps(rec, allow_nan=False) + "\n")
        if metrics_file and write:
            data = "".join(lines).encode()
            _io(run_dir, lambda: (metrics_file.write(data), metrics_file.flush()))
            metrics_bytes += len(data)
        if snaps:
            snaps.write_row(epoch, final, samples)
        if progress:
            progress.update(epoch, _status(epoch, losses, frame.to_data(real_batch), frame.to_data(fake), row, K))

    def save_checkpoint(epoch: int) -> None:
        collect()  # at every checkpoint epoch, with or without a run directory: the same schedule
        if run_dir:
            checkpoint.save(run_dir, game.state() | health.state(), epoch, metrics_bytes)

    status, started, first_epoch = "finished", time.perf_counter(), epoch
    if progress:
        progress.start(c.epochs, epoch)
    try:
        while epoch < c.epochs and not stop.requested and not health.all_frozen():
            first = epoch - epoch % block  # blocks are aligned so that a resumed run draws identical blocks
            real, z_d, z_g = game.draw(keys, first, min(block, c.epochs - first))
            for t in range(epoch - first, real.shape[0]):
                out = game.step(real[t], z_d[t], z_g[t])
                epoch += 1
                if epoch - 1 in log_at:
                    log(epoch - 1, out, real[t, -1])
                if epoch % c.checkpoint_every == 0 or epoch == c.epochs:
                    save_checkpoint(epoch)
                if stop.requested or health.all_frozen():
                    break
        if epoch < c.epochs and epoch > first_epoch:  # stopped early: keep where it got, say why
            status = "interrupted" if stop.requested else "all members stopped"
            save_checkpoint(epoch)
            if epoch - 1 not in log_at:
                log(epoch - 1, out, real[t, -1], write=False)
        collect()
    finally:
        worker.shutdown(wait=True, cancel_futures=True)
        if metrics_file:
            metrics_file.close()
        if progress:
            progress.close()
    wall = time.perf_counter() - started
    if health.frozen.any():
        health.restore()
    game.use_ema()
    if not final and history:  # killed after its last checkpoint: the final rows are in metrics.jsonl
        final = rundir.last_rows(history, K)
        samples = frame.to_data(game.G.evaluate(eval_z)).cpu().numpy()

    if health.frozen.any():  # diverged or stopped members end in their kept state, measured as saved
        samples = frame.to_data(game.G.evaluate(eval_z)).cpu().numpy()
        row = M.compute(samples, target)
        final = final | row | {"learned": M.judge(row, target)}
    run = Run(c, game.G, game.D, frame, list(target.columns), run_dir, history=history)
    statuses = [health.status(k) for k in range(K)]
    run.summary = rundir.summary(c, target, final, seeds, statuses, status, epoch, wall)
    if run_dir:
        rundir.finish(run, target, samples)
    if snaps:
        snaps.finish(run)
    return run


def _io(run_dir: Path, write) -> None:
    try:
        write()
    except OSError as e:
        raise GanfitError(f"cannot write in {run_dir}: {e.strerror or e}") from None

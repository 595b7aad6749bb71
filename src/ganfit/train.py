"""The training loop: the seed's alternating game, played by K independent GANs at once.

Each epoch: `d_steps` times, D learns to label a real batch 1 and a batch of G's samples 0 (G's output
detached); then `g_steps` times, G learns to make D say 1, with only G's weights updated. Randomness
for a block of epochs is drawn ahead in one go from counter-based streams (rng.py), and nothing in the
step reads a value back to the host; metrics are computed every `log_every` epochs.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import fast, losses, rng
from . import metrics as M
from .config import Config
from .errors import GanfitError
from .fast import FastGame
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
    pending_eps: list = field(default_factory=list)  # gp's eps for the drawn epochs not yet stepped

    @classmethod
    def build(cls, config: Config) -> Game:
        config.validate()
        target, noise = make_target(config.target), make_noise(config.noise)
        view = make_view(config.d_view)
        device = _device(config.device)
        seeds = [config.seed + i for i in range(config.seeds)]
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
            game.opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=betas, foreach=True)
            game.opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=betas, foreach=True)
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
        if self.fast:
            return self.fast.step(real, z_d, z_g)
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


def _device(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GanfitError(f"device {name!r}: CUDA is not available on this machine (use --device cpu)")
    return torch.device(name)


def default_threads(config: Config) -> int:
    """One thread for small ensembles, where a second spinning thread only adds overhead; all cores
    once each op carries enough work to split."""
    if config.threads:
        return config.threads
    return 1 if config.seeds * config.batch < 400 else (os.cpu_count() or 1)


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


def train(config: Config, out: str | Path | None = None, progress=None) -> Run:
    """Train config.seeds GANs together; write the run directory `out` (if given); return the Run.

    `progress`, if given, is told `start(total)`, `update(epoch, line)` at every log row and `close()`.
    """
    game = Game.build(config)
    c, target, frame = game.config, game.target, game.frame
    K, device = c.seeds, game.G.weights[0].device
    run_dir = _create_run_dir(Path(out), c) if out is not None else None
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(default_threads(c))
    seeds = [c.seed + i for i in range(K)]
    keys = rng.member_keys(seeds, "train", device)
    eval_u = rng.uniform(
        rng.member_keys(seeds, "eval", device),
        torch.zeros(1, dtype=torch.int64, device=device),
        c.eval_samples * game.noise.n_uniforms,
    )[0]
    eval_z = game.noise.sample(eval_u.reshape(K, c.eval_samples, game.noise.n_uniforms))
    log_at = sorted(set(range(0, c.epochs, c.log_every)) | {c.epochs - 1})
    per_epoch = c.batch * (
        c.d_steps * (game.target.n_uniforms + game.noise.n_uniforms) + c.g_steps * game.noise.n_uniforms
    )
    block = max(1, min(c.epochs, DRAW_BUDGET // (K * per_epoch)))

    history: list[dict] = []
    metrics_file = open(run_dir / "metrics.jsonl", "w") if run_dir else None
    final: dict[str, np.ndarray] = {}
    samples = np.empty(0)
    snaps = Snapshots.start(game, eval_z, run_dir)  # pictures and TensorBoard (snapshots.py); None when off

    def log(epoch: int, out, real_batch: torch.Tensor) -> None:
        nonlocal final, samples
        losses = [x.cpu().numpy() for x in out[0]()]
        samples = frame.to_data(game.G.evaluate(eval_z)).cpu().numpy()
        row = M.compute(samples, target)
        row["learned"] = M.judge(row, target)
        final = row | {"d_loss_real": losses[0], "d_loss_fake": losses[1], "g_loss": losses[2]}
        for k in range(K):
            rec = jsonable({"epoch": epoch, "member": k, "seed": seeds[k]} | {n: v[k] for n, v in final.items()})
            history.append(rec)
            if metrics_file:
                metrics_file.write(_json_line(rec))
        if metrics_file:
            metrics_file.flush()
        if snaps:
            snaps.take(epoch, final, samples)
        if progress:
            status_line = _status(epoch, losses, frame.to_data(real_batch), frame.to_data(out[1]), row, K)
            progress.update(epoch, status_line)

    status, started, done = "finished", time.perf_counter(), 0
    if progress:
        progress.start(c.epochs)
    try:
        epoch = 0
        while epoch < c.epochs:
            count = min(block, c.epochs - epoch)
            real, z_d, z_g = game.draw(keys, epoch, count)
            for t in range(count):
                out = game.step(real[t], z_d[t], z_g[t])
                done = epoch + 1
                if epoch in log_at:
                    log(epoch, out, real[t, -1])
                epoch += 1
    except KeyboardInterrupt:
        status = "interrupted"
        if done and done - 1 not in log_at:
            log(done - 1, out, real[t, -1])
    finally:
        if metrics_file:
            metrics_file.close()
        torch.set_num_threads(previous_threads)
        if progress:
            progress.close()
    wall = time.perf_counter() - started

    run = Run(c, game.G, game.D, frame, list(target.columns), run_dir, history=history)
    run.summary = _summary(c, target, final, seeds, status, done, wall)
    if run_dir:
        _finish_run_dir(run, target, samples)
    if snaps:
        snaps.finish(run)
    return run


def _json_line(rec: dict) -> str:
    return json.dumps(rec, allow_nan=False) + "\n"


def _summary(
    c: Config, target: Target, final: dict, seeds: list[int], status: str, epochs_done: int, wall: float
) -> dict:
    K = len(seeds)
    members = [{"member": k, "seed": seeds[k]} | {n: v[k] for n, v in final.items()} for k in range(K)]
    median = (
        {
            n: np.nanmedian(final[n]) if np.isfinite(final[n]).any() else None
            for n in (*M.names(target), "d_loss_real", "d_loss_fake", "g_loss")
        }
        if final
        else {}
    )
    return jsonable(
        {
            "status": status,
            "epochs": epochs_done,
            "epochs_planned": c.epochs,
            "members_total": K,
            "learned": int(np.sum(final["learned"])) if final else 0,
            "criterion": M.criterion(target),
            "target": target.describe(),
            "target_mean": target.mean.tolist(),
            "target_std": target.std.tolist(),
            "median": median,
            "wall_seconds": round(wall, 3),
            "gan_epochs_per_second": round(K * epochs_done / wall, 1) if wall > 0 else None,
            "members": members,
        }
    )


def _create_run_dir(out: Path, config: Config) -> Path:
    """Make the run directory and write config.toml first, so an unwritable place fails before training."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GanfitError(f"--out {out}: already exists and is not an empty directory (choose another)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "config.toml", config.to_toml())
    except OSError as e:
        raise GanfitError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    return out


def _finish_run_dir(run: Run, target: Target, samples: np.ndarray) -> None:
    from . import plots

    run.save_weights(run.dir / "weights.safetensors")
    write_text(run.dir / "summary.json", json.dumps(run.summary, indent=2) + "\n")
    if run.history:
        plots.moments(run, target, run.dir / "moments.png")
        plots.histogram(samples, target, run.dir / "histogram.png")

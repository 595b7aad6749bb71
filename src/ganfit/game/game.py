"""The game a config describes: R, I, G, D and D's view, the working frame, and the engine that plays it.

Game.build makes every part from the config and picks the gradient engine, in one place: the
hand-derived FastEngine wherever it covers the game, else the AutogradEngine (or what `gradients`
asks for). Game.draw turns counter-based random numbers into a block of epochs' real batches and
noise; Game.step plays one epoch on the engine, then the learning-rate schedule and G's moving
average. Nothing here reads a value back to the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from ..config import Config
from ..errors import GanfitError
from . import compiled, cuda, fast, rng
from .autograd import AutogradEngine
from .compiled import CompiledEngine
from .cuda import DeviceDraws, GraphEngine
from .fast import FastEngine
from .frame import Frame
from .models import MLP, discriminator, generator
from .noise import Noise, make_noise
from .targets import Target, make_target
from .views import make_view


class Draws(NamedTuple):
    """A block of epochs' random inputs, [count, steps, K, B, dim] each (eps: WGAN-GP's, or None)."""

    real: torch.Tensor
    z_d: torch.Tensor
    z_g: torch.Tensor
    eps: torch.Tensor | None

    def __len__(self) -> int:
        return self.real.shape[0]

    def at(self, t: int) -> tuple:
        """The step's arguments for epoch t of the block."""
        return self.real[t], self.z_d[t], self.z_g[t], None if self.eps is None else self.eps[t]


def engine_for(config: Config, view) -> type:
    """The engine class that plays config's game: the compiled or the torch hand-derived step wherever
    they cover it (unless `gradients` asks for autograd), else autograd."""
    covered = fast.covers(config, view)
    if config.gradients == "fast" and not covered:
        raise GanfitError(f"gradients 'fast' covers {fast.COVERS}; use 'autograd' for {config.loss} / {config.d_view}")
    if covered and config.gradients != "autograd":
        if cuda.covers(config, view):
            return GraphEngine
        return CompiledEngine if compiled.covers(config, view) else FastEngine
    return AutogradEngine


def make_engine(config: Config, G: MLP, D: MLP, view) -> FastEngine | AutogradEngine:
    return engine_for(config, view)(config, G, D, view)


def eval_noise(config: Config, noise: Noise, device, n: int | None = None) -> torch.Tensor:
    """Each member's fixed eval noise [K, n, noise dim] (n: eval_samples): the same at every log row."""
    n = n or config.eval_samples
    u = rng.fixed(rng.member_keys(config.member_seeds(), "eval", device), n * noise.n_uniforms)
    return noise.sample(u.reshape(config.seeds, n, noise.n_uniforms))


def device_for(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GanfitError(f"device {name!r}: CUDA is not available on this machine (use --device cpu)")
    return torch.device(name)


def lr_scale(config: Config, epoch: int) -> float:
    """The learning rates' factor at epoch (0-based): 1, then in the last n = lr_decay * epochs epochs a
    straight line from 1 down to 1/n at the last epoch."""
    n = round(config.lr_decay * config.epochs)
    left = config.epochs - epoch
    return 1.0 if left > n else left / n


@dataclass
class Game:
    """Everything a config builds: the five parts, the frame, and the engine."""

    config: Config
    target: Target
    noise: Noise
    frame: Frame
    view: object
    G: MLP
    D: MLP
    engine: FastEngine | AutogradEngine
    validation: Target | None = None  # held-out samples the members are measured against (config.validation)
    ema: list[torch.Tensor] | None = None  # the moving average of G's parameters (g_ema > 0)
    g_live: list[torch.Tensor] = field(default_factory=list)  # G's parameters, detached
    epochs_done: int = 0  # a host-side count: the average's warm-up needs it, and reading it costs nothing

    @classmethod
    def build(cls, config: Config) -> Game:
        """Every part the config describes, on its device, with the engine that plays it."""
        config.validate()
        target, noise, view = make_target(config.target), make_noise(config.noise), make_view(config.d_view)
        device, seeds = device_for(config.device), config.member_seeds()
        G, D = generator(config, target.dim, seeds, device), discriminator(config, target.dim, seeds, device)
        engine = make_engine(config, G, D, view)
        g_live = [p.detach() for p in G.parameters()]  # after the engine: views of the tensors it trains
        ema = [p.clone() for p in g_live] if config.g_ema else None
        if ema is not None and isinstance(engine, CompiledEngine | GraphEngine):
            ema = engine.average(g_live)  # its step lerps the average (in C; in the CUDA graph)
        validation = make_target(config.validation) if config.validation else None
        if validation is not None and (validation.data is None or validation.dim != target.dim):
            raise GanfitError(f"validation: needs {target.dim}-D samples (csv:, npy: or data in memory)")
        frame = Frame.for_target(target, config)
        return cls(config, target, noise, frame, view, G, D, engine, validation, ema, g_live)

    def draw(self, keys: torch.Tensor, first: int, count: int) -> Draws | DeviceDraws:
        """Real batches and noise for epochs [first, first + count) (drawn inside the block's graph on CUDA)."""
        if isinstance(self.engine, GraphEngine):
            return DeviceDraws(self, keys, first, count)
        return self.sample_draws(keys, first, count)

    def sample_draws(self, keys: torch.Tensor, first: int | torch.Tensor, count: int) -> Draws:
        """draw()'s arithmetic (first: an int, or an int64 device tensor inside a CUDA graph)."""
        c, t, z = self.config, self.target, self.noise
        K, B = keys.shape[0], c.batch
        n_real, n_noise = B * t.n_uniforms, B * z.n_uniforms
        d_width = c.d_steps * (n_real + n_noise)
        width = d_width + c.g_steps * n_noise
        eps_width = c.d_steps * B if c.gp else 0
        u = rng.uniform(keys, torch.arange(count, device=keys.device) + first, width + eps_width)
        eps = None
        if c.gp:  # WGAN-GP's eps, one per sample, from the slots after the noise
            eps = u[..., width:].reshape(count, K, c.d_steps, B, 1).transpose(1, 2)
        d_part = u[..., :d_width].reshape(count, K, c.d_steps, n_real + n_noise)
        real = t.sample(d_part[..., :n_real].reshape(count, K, c.d_steps, B, t.n_uniforms))
        z_d = z.sample(d_part[..., n_real:].reshape(count, K, c.d_steps, B, z.n_uniforms))
        z_g = z.sample(u[..., d_width:width].reshape(count, K, c.g_steps, B, z.n_uniforms))
        steps_first = (0, 2, 1, 3, 4)
        return Draws(
            self.frame.to_frame(real).permute(steps_first).contiguous(),
            z_d.permute(steps_first).contiguous(),
            z_g.permute(steps_first).contiguous(),
            eps,
        )

    def uniforms_per_epoch(self) -> int:
        """How many uniforms one member draws per epoch (real batches and noise for every step)."""
        c = self.config
        return c.batch * (
            c.d_steps * (self.target.n_uniforms + self.noise.n_uniforms) + c.g_steps * self.noise.n_uniforms
        )

    def step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor, eps: torch.Tensor | None = None):
        """One epoch for all members: (losses, fake) as the engine returns them."""
        if self.config.lr_decay:
            self.engine.set_lr_scale(lr_scale(self.config, self.epochs_done))
        if self.ema is None:
            out = self.engine.step(real, z_d, z_g, eps)
            self.epochs_done += 1
            return out
        weight = self.ema_weight(self.epochs_done + 1)
        fused = isinstance(self.engine, CompiledEngine)
        if fused:
            self.engine.set_average_weight(weight)
        out = self.engine.step(real, z_d, z_g, eps)
        self.epochs_done += 1
        if not fused:
            torch._foreach_lerp_(self.ema, self.g_live, weight)
        return out

    def play(self, drawn: Draws, first: int, last: int):
        """Epochs first..last - 1 of a block of draws, as step() would play them one by one; the compiled
        step plays them in one call (at K = 1 the Python around each epoch's call was a fifth of it); on
        CUDA, one replay of a captured graph."""
        if isinstance(drawn, DeviceDraws):
            out = self.engine.play(self, drawn.keys, drawn.first + first, last - first)
            self.epochs_done += last - first
            return out
        if not isinstance(self.engine, CompiledEngine) or last - first < 2:
            for t in range(first, last):
                out = self.step(*drawn.at(t))
            return out
        done, c = self.epochs_done, self.config
        lrs = [lr_scale(c, done + i) for i in range(last - first)] if c.lr_decay else None
        ews = [self.ema_weight(done + 1 + i) for i in range(last - first)] if self.ema is not None else None
        out = self.engine.steps(drawn.real[first:last], drawn.z_d[first:last], drawn.z_g[first:last], lrs, ews)
        self.epochs_done += last - first
        return out

    def ema_weight(self, t: int) -> float:
        """The moving average's step towards G after t epochs. Warm-up (as StyleGAN's G_ema): early on the
        average spans about a tenth of the epochs so far, so that it forgets the random initial weights
        instead of decaying from them."""
        return 1.0 - min(self.config.g_ema, (1 + t) / (10 + t))

    def g_params(self) -> list[torch.Tensor]:
        """G's parameters as the run evaluates and saves them: the moving average when g_ema is on."""
        return self.ema if self.ema is not None else list(self.g_live)

    def use_ema(self) -> None:
        """At the end of training: G's weights become their moving average (when g_ema is on)."""
        if self.ema is not None:
            with torch.no_grad():
                torch._foreach_copy_(self.g_live, self.ema)

    def state(self) -> dict[str, torch.Tensor]:
        """Every tensor the rest of training depends on (the random numbers have no state: rng.py)."""
        return {f"G.ema.{i}": t for i, t in enumerate(self.ema or [])} | self.engine.state()

    def load_state(self, tensors: dict[str, torch.Tensor], epochs_done: int) -> None:
        """Put a checkpoint's tensors back (G's average and the engine's state), at `epochs_done`."""
        with torch.no_grad():
            for i, t in enumerate(self.ema or []):
                t.copy_(tensors[f"G.ema.{i}"])
        self.engine.load_state(tensors)
        self.epochs_done = epochs_done

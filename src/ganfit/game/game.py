"""The game a config describes: R, I, G, D and D's view, the working frame, and the engine that plays it.

Game.build makes every part from the config's plan (plan.py: worked out once, the engine chosen there).
Game.draw turns counter-based random numbers into a block of epochs' real batches and noise; Game.play
hands a block of epochs to the engine with each epoch's learning-rate factor and G's average's weight
(engine.py's protocol: nothing here asks which engine it is). Nothing here reads a value back to the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..config import Config
from ..errors import GanfitError
from . import rng
from .engine import Draws, Engine
from .frame import Frame
from .models import MLP, discriminator, generator
from .noise import Noise
from .plan import Plan
from .targets import Target


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
    engine: Engine
    plan: Plan
    validation: Target | None = None  # held-out samples the members are measured against (config.validation)
    ema: list[torch.Tensor] | None = None  # the moving average of G's parameters (g_ema > 0)
    g_live: list[torch.Tensor] = field(default_factory=list)  # G's parameters, detached
    epochs_done: int = 0  # a host-side count: the average's warm-up needs it, and reading it costs nothing
    provenance: dict = field(default_factory=dict)  # which software and CPU play it (provenance.collect)

    @classmethod
    def build(cls, plan: Plan | Config) -> Game:
        """Every part the plan (or a config, planned here) describes, on its device, with its engine."""
        plan = plan if isinstance(plan, Plan) else Plan.of(plan)
        config, target = plan.config, plan.target
        device, seeds = device_for(config.device), config.member_seeds()
        G = generator(config, target.dim, seeds, device, plan.g_sizes[0])
        D = discriminator(config, target.dim, seeds, device, plan.d_sizes[0])
        engine = plan.engine(config, G, D, plan.view)
        g_live = [p.detach() for p in G.parameters()]  # after the engine: views of the tensors it trains
        ema = engine.average(g_live) if config.g_ema else None
        frame = Frame.for_target(target, config)
        return cls(config, target, plan.noise, frame, plan.view, G, D, engine, plan, plan.validation, ema, g_live)

    def draw(self, keys: torch.Tensor, first: int, count: int):
        """Epochs [first, first + count)'s random inputs, as the engine takes them: its draw() (the game's
        Draws, sample_draws; on CUDA, what the engine draws itself inside its captured graph)."""
        return self.engine.draw(self, keys, first, count)

    def sample_draws(self, keys: torch.Tensor, first: int | torch.Tensor, count: int) -> Draws:
        """Real batches and noise for epochs [first, first + count) (first: an int, or an int64 device tensor
        inside a CUDA graph)."""
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

    def step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor, eps: torch.Tensor | None = None):
        """One epoch for all members: (losses, fake) as the engine returns them."""
        one = (real[None], z_d[None], z_g[None], None if eps is None else eps[None])
        return self.play(Draws(*one), 0, 1)

    def play(self, drawn: Draws, first: int, last: int):
        """Epochs first..last - 1 of a block of draws on the engine, each with its learning-rate factor and
        G's average's weight (the compiled step plays them in one call: at K = 1 the Python around each
        epoch's call was a fifth of it); returns the last epoch's (losses, fake)."""
        done, c, n = self.epochs_done, self.config, last - first
        lrs = [lr_scale(c, done + i) for i in range(n)] if c.lr_decay else None
        ews = [self.ema_weight(done + 1 + i) for i in range(n)] if self.ema is not None else None
        out = self.engine.play(drawn, first, last, lrs, ews)
        self.epochs_done += n
        return out

    def play_g_only(self, drawn: Draws, t: int):
        """Epoch t of drawn with D's learning rate at 0 (the lab's "G only"): D's weights stay, so G steps
        against the D shown before it; D's Adam moments and step count still move, for the caller to put
        back. Returns the epoch's (losses, fake)."""
        c, done = self.config, self.epochs_done
        scale = lr_scale(c, done) if c.lr_decay else 1.0
        self.engine.set_lr_scale(scale, d_scale=0.0)
        try:
            ews = [self.ema_weight(done + 1)] if self.ema is not None else None
            out = self.engine.play(drawn, t, t + 1, None, ews)
        finally:
            self.engine.set_lr_scale(scale)
        self.epochs_done += 1
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

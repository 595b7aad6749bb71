"""The fast engine on CUDA: a block of epochs captured once as a CUDA graph, then replayed.

Launched from Python one op at a time, the seed's epoch is ~60 small kernels and the GPU waits on the
host (442 epochs/s at K = 1 on an H100, below one CPU core). GraphEngine records a block of n epochs
once: the block's counter-based draws (rng.py's hash, on the device, from the block's first epoch held
in a device tensor), then per epoch FastEngine.step and, computed on the device from the epoch's number,
the learning-rate factor and G's moving average. A replay is one launch, with no host round-trip inside.
The graph reads and writes FastEngine's own buffers (theta, Adam's moments, the step counts) and G's
average, so state(), load_state() and a checkpoint see the live values, and a resumed run replays the
same per-epoch kernels over the same numbers: bit for bit.

One graph per block length (blocks end at metric rows and checkpoints), each captured once after a
warm-up of the same block on a side stream whose changes are then undone. Without capture (on the CPU,
in tests, or for a target sampled on the host) the same block runs eagerly.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from functools import cached_property

import torch

from ..errors import GanfitError
from . import adam
from .fast import FastEngine

GRAPHS = "GANFIT_CUDA_GRAPHS"  # "0": the torch step launched op by op on CUDA (the engine before graphs)
MAX_BLOCK = 64  # epochs per graph at most (training._play hands over at most CHUNK = 64 at a time)


def covers(config, view) -> bool:
    """The fast engine's games (fast.covers is asked first) with Adam on a CUDA device, unless
    GANFIT_CUDA_GRAPHS=0 (plain gradient descent there: the fast engine's torch ops, uncaptured)."""
    return config.device.startswith("cuda") and config.optimizer == "adam" and os.environ.get(GRAPHS, "1") != "0"


def lr_scale(config, epoch: torch.Tensor) -> torch.Tensor:
    """game.lr_scale on the device: the same float64 arithmetic, from an int64 epoch tensor."""
    n = round(config.lr_decay * config.epochs)
    left = config.epochs - epoch
    return torch.where(left > n, 1.0, left.double() / max(n, 1))


def ema_weight(config, t: torch.Tensor) -> torch.Tensor:
    """Game.ema_weight on the device (float64, then float32 as lerp takes a Python float)."""
    t = t.double()
    return (1.0 - torch.clamp((1 + t) / (10 + t), max=config.g_ema)).float()


class DeviceDraws:
    """A block of epochs whose random numbers the engine draws on the device as it plays them. It has
    Draws' interface for whatever outside the step asks for them (the status line's real batch): the
    same numbers, then drawn eagerly, once."""

    def __init__(self, game, keys: torch.Tensor, first: int, count: int):
        self.game, self.keys, self.first, self.count = game, keys, first, count

    def __len__(self) -> int:
        return self.count

    @cached_property
    def drawn(self):
        return self.game.sample_draws(self.keys, self.first, self.count)

    @property
    def real(self) -> torch.Tensor:
        return self.drawn.real

    def at(self, t: int) -> tuple:
        return self.drawn.at(t)


class GraphEngine(FastEngine):
    """FastEngine whose blocks of epochs are replays of captured CUDA graphs: its draw() is a DeviceDraws,
    which its play() draws and plays on the device (engine.py's protocol)."""

    name = "cuda-graph"

    def __init__(self, config, G, D, view):
        super().__init__(config, G, D, view)
        device = self.G.theta.device
        self.capture = device.type == "cuda"  # the CPU runs the same block eagerly (tests)
        self.first = torch.zeros((), dtype=torch.int64, device=device)  # the block's first epoch
        self.keys: torch.Tensor | None = None  # the run's member keys, which the graphs read in place
        self.ema: torch.Tensor | None = None  # G's moving average, flat [K, P] like theta (average())
        self.graphs: dict[int, tuple] = {}  # block length -> (graph, its outputs)
        if config.lr_decay:  # a factor computed on the device each epoch: Adam in tensor ops (adam.py)
            self.scale = torch.ones((), dtype=torch.float64, device=device)
            for net, lr in ((self.G, config.lr_g), (self.D, config.lr_d)):
                if net.settings is None:
                    k = torch.ones(config.seeds, dtype=torch.float64, device=device)
                    net.settings = adam.prepared({"lr": k * lr, "beta1": k * config.beta1, "beta2": k * config.beta2})
                net.lr_scale = self.scale

    def set_lr_scale(self, scale: float, d_scale: float | None = None) -> None:
        if d_scale is not None:  # the captured graphs hold one factor for both nets
            raise GanfitError("D's learning rate apart from G's (the lab's G only) is not played on CUDA")
        if self.config.lr_decay:
            self.scale.fill_(scale)

    def average(self, g_live: list[torch.Tensor]) -> list[torch.Tensor]:
        """G's moving average as one flat [K, P] buffer like theta, lerped in the graph after G's step;
        returned as views shaped and laid out as G's parameters g_live (what Game keeps as its ema)."""
        self.ema, base = self.G.theta.clone(), self.G.theta.storage_offset()
        return [torch.as_strided(self.ema, p.shape, p.stride(), p.storage_offset() - base) for p in g_live]

    def draw(self, game, keys: torch.Tensor, first: int, count: int) -> DeviceDraws:
        return DeviceDraws(game, keys, first, count)

    def play(self, drawn, first: int, last: int, lr_scales: list | None, ema_weights: list | None):
        """Epochs first..last - 1 of a block; a DeviceDraws' are drawn and played on the device (the lr
        factor and the average's weight computed there too), Draws given from outside (Game.step's) one
        epoch at a time with the factors given."""
        if isinstance(drawn, DeviceDraws):
            return self._play(drawn.game, drawn.keys, drawn.first + first, last - first)
        for i, t in enumerate(range(first, last)):
            if lr_scales is not None:
                self.set_lr_scale(lr_scales[i])
            out = FastEngine.step(self, *drawn.at(t))
            if self.ema is not None:
                self.ema.lerp_(self.G.theta, ema_weights[i])
        return out

    def _play(self, game, keys: torch.Tensor, first: int, n: int):
        """Epochs first .. first + n - 1, drawn and played on the device; returns the last one's
        (losses, fake) as FastEngine.step does (buffers the next block writes over). n is played as
        blocks of powers of two, so that a run captures a handful of graphs whatever its schedule."""
        if self.capture and not game.target.on_device:  # its sampler goes through the host: no capture
            self.capture, self.name = False, "fast"
        if self.keys is None or self.keys.data_ptr() != keys.data_ptr():
            self.keys, self.graphs = keys, {}  # the run's keys: the same tensor from start to end
        with torch.cuda.device(self.first.device) if self.capture else contextlib.nullcontext():  # cuda:1 too
            while n:
                size = 1 << min(n.bit_length() - 1, MAX_BLOCK.bit_length() - 1)
                self.first.fill_(first)
                out = self._replay(game, size) if self.capture else self._block(game, size)
                first, n = first + size, n - size
        return out

    def _replay(self, game, n: int):
        if n not in self.graphs:
            self.graphs[n] = self._capture(game, n)
        graph, out = self.graphs[n]
        if graph is None:  # the capture failed (warned): this block length runs eagerly
            return self._block(game, n)
        graph.replay()
        return out

    def _block(self, game, n: int):
        """The captured work: n epochs' draws, then each epoch's step, lr factor and average."""
        c = self.config
        drawn = game.sample_draws(self.keys, self.first, n)
        for i in range(n):
            epoch = self.first + i
            if c.lr_decay:
                self.scale.copy_(lr_scale(c, epoch))
            out = FastEngine.step(self, *drawn.at(i))
            if self.ema is not None:
                self.ema.lerp_(self.G.theta, ema_weight(c, epoch + 1))
        return out

    def _live(self) -> list[torch.Tensor]:
        return list(self.state().values()) + ([self.ema] if self.ema is not None else [])

    def _capture(self, game, n: int) -> tuple:
        """The graph of an n-epoch block, captured after one eager run of it (lazy kernel loading,
        cuBLAS's handles, the allocator) whose training is then undone; (None, None) if capture fails."""
        kept = [t.clone() for t in self._live()]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self._block(game, n)
        torch.cuda.current_stream().wait_stream(side)
        with torch.no_grad():
            torch._foreach_copy_(self._live(), kept)
        graph = torch.cuda.CUDAGraph()
        try:
            # thread_local: the metric rows' worker thread may use the GPU while this thread captures
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                out = self._block(game, n)
        except RuntimeError as e:  # something in the game reads the host: play it eagerly, and say so
            reason = str(e).splitlines()[0]
            warnings.warn(f"CUDA graph capture failed ({reason}): {n}-epoch blocks run eagerly", stacklevel=3)
            return None, None
        return graph, out

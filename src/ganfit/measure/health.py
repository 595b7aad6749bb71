"""Per-member health: divergence, early stopping and the best weights, checked at log time from
device buffers.

A member whose weights or losses become non-finite is marked `diverged` at that log epoch; one whose
metric has not improved for `patience` log intervals is marked `stopped`. Either way it is frozen:
its kept state (the last finite one, or the one it stopped at) is what the run saves as its final
weights, while the other members train on untouched. With `keep_best`, each member's weights at its
lowest value of that metric are kept too, and are what the run ends with.
"""

from __future__ import annotations

import numpy as np
import torch


class Health:
    def __init__(
        self, params: list[torch.Tensor], metric: str = "", patience: int = 0, delta: float = 0.0, keep_best: str = ""
    ):
        self.params = [p.detach() for p in params]  # the live tensors (views into the engine's buffers)
        K = self.params[0].shape[0]
        self.metric, self.patience, self.delta, self.keep_best = metric, patience, delta, keep_best
        self.kept = [p.clone() for p in self.params]
        self.diverged_at = torch.full((K,), -1, dtype=torch.int64)
        self.stopped_at = torch.full((K,), -1, dtype=torch.int64)
        self.best = torch.full((K,), float("inf"), dtype=torch.float64)
        self.waiting = torch.zeros(K, dtype=torch.int64)
        if keep_best:
            self.best_state = [p.clone() for p in self.params]
            self.best_value = torch.full((K,), float("inf"), dtype=torch.float64)
            self.best_epoch = torch.full((K,), -1, dtype=torch.int64)
        self._judged()

    @property
    def frozen(self) -> torch.Tensor:
        return (self.diverged_at >= 0) | (self.stopped_at >= 0)

    def all_frozen(self) -> bool:
        """Asked every epoch: answered from a flag that check() and load_state() set (no tensor op)."""
        return self._all_frozen

    def _judged(self) -> None:
        self._all_frozen = bool(self.frozen.all())

    def snapshot(self) -> list[torch.Tensor]:
        return [p.clone() for p in self.params]

    def check(self, epoch: int, losses: list[np.ndarray], row: dict[str, np.ndarray], params=None) -> None:
        """Judge the members at `epoch` from its losses, metrics and weights (a snapshot() taken then,
        or the live ones); the finite members' weights become their kept state."""
        params = params if params is not None else self.params
        # a NaN or infinity anywhere in a member makes its sum non-finite: one reduction per tensor
        finite = torch.isfinite(torch.stack([p.flatten(1).sum(1, dtype=torch.float64) for p in params]).sum(0)).cpu()
        for loss in losses:
            finite &= torch.from_numpy(np.isfinite(loss))
        live = ~self.frozen
        self.diverged_at[live & ~finite] = epoch
        if self.keep_best:
            value = _values(row, self.keep_best)
            better = live & finite & (value < self.best_value)
            self.best_value = torch.where(better, value, self.best_value)
            self.best_epoch[better] = epoch
            _copy_members(self.best_state, params, better)
        if self.metric:
            value = _values(row, self.metric)
            better = value < self.best - self.delta
            self.best = torch.where(better, value, self.best)
            self.waiting = torch.where(better, 0, self.waiting + 1)
            self.stopped_at[live & finite & (self.waiting >= self.patience)] = epoch
        _copy_members(self.kept, params, live & finite)
        self._judged()

    def restore(self) -> None:
        """At the end of a run: each frozen member's kept state, then (with keep_best) each member's best
        weights, into the live weights."""
        with torch.no_grad():
            _copy_members(self.params, self.kept, self.frozen)
            if self.keep_best:
                _copy_members(self.params, self.best_state, self.best_epoch >= 0)

    def status(self, k: int) -> tuple[str, int | None]:
        if self.diverged_at[k] >= 0:
            return "diverged", int(self.diverged_at[k])
        if self.stopped_at[k] >= 0:
            return "stopped", int(self.stopped_at[k])
        return "ok", None

    def state(self) -> dict[str, torch.Tensor]:
        out = {f"health.kept.{i}": k for i, k in enumerate(self.kept)}
        if self.keep_best:
            out |= {f"health.best_state.{i}": k for i, k in enumerate(self.best_state)}
            out |= {"health.best_value": self.best_value, "health.best_epoch": self.best_epoch}
        return out | {
            "health.diverged_at": self.diverged_at,
            "health.stopped_at": self.stopped_at,
            "health.best": self.best,
            "health.waiting": self.waiting,
        }

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        for i, k in enumerate(self.kept):
            k.copy_(tensors[f"health.kept.{i}"])
        for name in ("diverged_at", "stopped_at", "best", "waiting"):
            setattr(self, name, tensors[f"health.{name}"].clone())
        if self.keep_best:
            for i, k in enumerate(self.best_state):
                k.copy_(tensors[f"health.best_state.{i}"])
            self.best_value = tensors["health.best_value"].clone()
            self.best_epoch = tensors["health.best_epoch"].clone()
        self._judged()


def _values(row: dict[str, np.ndarray], name: str) -> torch.Tensor:
    """A metric per member as float64, NaN as +inf (never the best, always a non-improvement)."""
    return torch.from_numpy(np.nan_to_num(np.asarray(row[name], dtype=np.float64), nan=np.inf))


def _copy_members(dst: list[torch.Tensor], src: list[torch.Tensor], members: torch.Tensor) -> None:
    """dst[k] = src[k] for the members k where `members` is true."""
    if not members.any():
        return
    if members.all():  # the usual case: one copy, no masked indexing
        torch._foreach_copy_(dst, list(src))
        return
    members = members.to(dst[0].device)
    for d, s in zip(dst, src):
        d[members] = s[members]

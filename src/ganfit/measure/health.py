"""Per-member health: divergence and early stopping, checked at log time from device buffers.

A member whose weights or losses become non-finite is marked `diverged` at that log epoch; one whose
metric has not improved for `patience` log intervals is marked `stopped`. Either way it is frozen:
its kept state (the last finite one, or the one it stopped at) is what the run saves as its final
weights, while the other members train on untouched.
"""

from __future__ import annotations

import numpy as np
import torch


class Health:
    def __init__(self, params: list[torch.Tensor], metric: str = "", patience: int = 0, delta: float = 0.0):
        self.params = [p.detach() for p in params]  # the live tensors (views into the engine's buffers)
        K = self.params[0].shape[0]
        self.metric, self.patience, self.delta = metric, patience, delta
        self.kept = [p.clone() for p in self.params]
        self.diverged_at = torch.full((K,), -1, dtype=torch.int64)
        self.stopped_at = torch.full((K,), -1, dtype=torch.int64)
        self.best = torch.full((K,), float("inf"), dtype=torch.float64)
        self.waiting = torch.zeros(K, dtype=torch.int64)

    @property
    def frozen(self) -> torch.Tensor:
        return (self.diverged_at >= 0) | (self.stopped_at >= 0)

    def all_frozen(self) -> bool:
        return bool(self.frozen.all())

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
        if self.metric:
            value = torch.from_numpy(np.nan_to_num(np.asarray(row[self.metric], dtype=np.float64), nan=np.inf))
            better = value < self.best - self.delta
            self.best = torch.where(better, value, self.best)
            self.waiting = torch.where(better, 0, self.waiting + 1)
            self.stopped_at[live & finite & (self.waiting >= self.patience)] = epoch
        keep = live & finite
        if keep.all():  # the usual case: one copy, no masked indexing
            torch._foreach_copy_(self.kept, list(params))
            return
        keep = keep.to(self.params[0].device)
        for p, k in zip(params, self.kept):
            k[keep] = p[keep]

    def restore(self) -> None:
        """Put each frozen member's kept state into the live weights (at the end of a run)."""
        frozen = self.frozen.to(self.params[0].device)
        with torch.no_grad():
            for p, k in zip(self.params, self.kept):
                p[frozen] = k[frozen]

    def status(self, k: int) -> tuple[str, int | None]:
        if self.diverged_at[k] >= 0:
            return "diverged", int(self.diverged_at[k])
        if self.stopped_at[k] >= 0:
            return "stopped", int(self.stopped_at[k])
        return "ok", None

    def state(self) -> dict[str, torch.Tensor]:
        out = {f"health.kept.{i}": k for i, k in enumerate(self.kept)}
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

"""snapshots.npz: what the pictures of a run are drawn from, in the working frame, with the frame map.

Written once at the end of a run (hook.py); read by the panels (panels.py), the animation and the
painter process, which needs only this file and the target's spec.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import GanfitError
from ..files import atomic_write

SNAPSHOTS, EVOLUTION = "snapshots.npz", "evolution.gif"


@dataclass
class SnapData:
    """Snapshots on the host: `meta` (a dict), `epochs` [F], and arrays with a leading frame axis."""

    meta: dict
    epochs: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def has(self, name: str) -> bool:
        return name in self.arrays

    def to_data(self, x: np.ndarray, axis: int | None = None) -> np.ndarray:
        """Frame units to the data's units, along the last axis (or one coordinate `axis`)."""
        scale, shift = np.array(self.meta["scale"]), np.array(self.meta["shift"])
        if axis is not None:
            return (np.asarray(x) - shift[axis]) / scale[axis]
        return (np.asarray(x) - shift) / scale

    def save(self, path: Path) -> None:
        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, meta=np.array(json.dumps(self.meta)), epochs=self.epochs, **self.arrays)

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> SnapData:
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return cls(meta, z["epochs"], {k: z[k] for k in z.files if k not in ("meta", "epochs")})
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            raise GanfitError(f"{path}: not a ganfit snapshots file ({e})") from None

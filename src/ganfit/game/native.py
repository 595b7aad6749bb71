"""kernel.c, built with the system's C compiler on first use (about a second) and loaded with ctypes.

The library is cached per source, compiler, flags and CPU (in $GANFIT_CACHE, else ~/.cache/ganfit).
Where there is no compiler (or on Windows), library() is None and its users run torch's code instead:
the compiled step (compiled.py), G's evaluation for the metric rows (models.py) and the counter-based
random numbers (rng.py, bit-identical either way). GANFIT_COMPILED=0 keeps the first two on torch.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("kernel.c")
# -ffast-math lets the compiler vectorise the dot products (reassociation) and the exponentials; it is
# given when compiling only, never when linking, where it would switch the whole process's floats to
# flush-to-zero.
COMPILE = ["-O3", "-march=native", "-ffast-math", "-fPIC", "-pthread", "-c"]
ACTS = {"elu": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4}  # kernel.c's codes
LINK = ["-pthread", "-lm"] + (["-lmvec"] if platform.system() == "Linux" else [])  # libmvec: glibc's vector expf


def wanted() -> bool:
    """Whether the compiled step and evaluation may run (GANFIT_COMPILED=0: torch's, e.g. for goldens)."""
    return os.environ.get("GANFIT_COMPILED", "1") != "0"


def cache_dir() -> Path:
    if os.environ.get("GANFIT_CACHE"):
        return Path(os.environ["GANFIT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganfit"


def _cpu() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next((ln for ln in lines if ln.startswith(("model name", "flags"))), "")
    except OSError:
        return platform.processor()


@cache
def library() -> ctypes.CDLL | None:
    """The compiled kernel, built once per source, compiler and CPU; None where it cannot be built."""
    if platform.system() == "Windows":
        return None
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        return None
    key = hashlib.sha256(b"\0".join(x.encode() for x in (SOURCE.read_text(), cc, *COMPILE, _cpu()))).hexdigest()
    path = cache_dir() / f"kernel-{key[:16]}.so"
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
                obj, lib = Path(tmp, "kernel.o"), Path(tmp, "kernel.so")
                subprocess.run([cc, *COMPILE, str(SOURCE), "-o", str(obj)], check=True, capture_output=True)
                subprocess.run([cc, "-shared", str(obj), "-o", str(lib), *LINK], check=True, capture_output=True)
                os.replace(lib, path)  # whole or not at all, also when two runs build it at once
        except (OSError, subprocess.CalledProcessError):
            return None
    lib = ctypes.CDLL(str(path))
    ptr = ctypes.c_void_p
    lib.kernel_step.argtypes = [ptr] * 4  # (Game *, real, z_d, z_g): compiled.py's Game
    lib.kernel_step.restype = None
    lib.kernel_steps.argtypes = [ptr] * 4 + [ctypes.c_int, ptr, ptr]
    lib.kernel_steps.restype = None
    lib.kernel_work.argtypes = [ptr]
    lib.kernel_work.restype = ctypes.c_long
    lib.kernel_uniform.argtypes = [ptr, ptr, ctypes.c_int, ctypes.c_int, ctypes.c_long, ptr]
    lib.kernel_uniform.restype = None
    lib.kernel_forward_work.argtypes = [ctypes.c_int, ptr]
    lib.kernel_forward_work.restype = ctypes.c_long
    lib.kernel_forward.argtypes = [ctypes.c_int, *[ptr] * 7, ctypes.c_int, ctypes.c_long, ptr, ptr]
    lib.kernel_forward.restype = None
    return lib


def forward(layers: list[tuple[torch.Tensor, torch.Tensor]], acts: list[str], x: torch.Tensor) -> torch.Tensor:
    """An ensemble MLP's output [K, rows, out] at x [K, rows, in] with kernel.c (library() must be
    there): layers are (W [K, in, out], b [K, 1, out]) float32 CPU tensors, each member's contiguous."""
    lib = library()
    K, rows, _ = x.shape
    sizes = [layers[0][0].shape[1]] + [w.shape[2] for w, _ in layers]
    for w, b in layers:
        assert w[0].is_contiguous() and b[0].is_contiguous() and w.dtype == b.dtype == torch.float32
    x = x.contiguous()
    out = torch.empty(K, rows, sizes[-1])
    n = len(layers)
    ints = (ctypes.c_int * (n + 1))(*sizes)
    work = torch.empty(lib.kernel_forward_work(n, ints))
    args = [
        (ctypes.c_int * max(1, n - 1))(*(ACTS[a] for a in acts)),
        (ctypes.c_void_p * n)(*(w.data_ptr() for w, _ in layers)),
        (ctypes.c_long * n)(*(w.stride(0) for w, _ in layers)),
        (ctypes.c_void_p * n)(*(b.data_ptr() for _, b in layers)),
        (ctypes.c_long * n)(*(b.stride(0) for _, b in layers)),
    ]
    lib.kernel_forward(n, ints, *args, x.data_ptr(), K, rows, out.data_ptr(), work.data_ptr())
    return out

"""kernel.c, built when ganfit was installed (setup.py) once per instruction set, and loaded with ctypes.

The variants lie beside this file as _kernel_{avx512,avx2,generic}.<extension suffix>. The generic one
(the architecture's baseline, safe on any CPU of it) is loaded first and says which x86-64 level the
CPU and its OS run (kernel_cpu_level); the best variant at or below it is then loaded, or the one that
GANFIT_KERNEL names (for tests and CI, which force the avx2 path on an AVX-512 machine). Before it is
used, a library must answer with this ABI, these struct sizes and the sha256 of the kernel.c beside it.

Where none can be had (no compiler at install, a file that will not load, another ABI), library() is
None, ganfit says so once in one line, and its users run torch's code: the compiled step (compiled.py),
G's evaluation for the metric rows (models.py) and the counter-based uniforms (rng.py, bit-identical
either way). GANFIT_COMPILED=0 turns every one of those uses off.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.machinery
import os
import platform
import struct
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "kernel.c"
ABI = 7  # kernel.c's KERNEL_ABI
VARIANTS = {"avx512": 4, "avx2": 3, "generic": 0}  # best first, with the x86-64 level each needs
MAXL, MAXT = 16, 256  # kernel.c's MAXL (layers per net) and MAXT (threads)


class Net(ctypes.Structure):  # kernel.c's Net; its size is checked against the library's at load
    _fields_ = [
        ("layers", ctypes.c_int),
        ("sizes", ctypes.c_int * (MAXL + 1)),
        ("acts", ctypes.c_int * MAXL),
        ("P", ctypes.c_long),
        *((name, ctypes.c_void_p) for name in ("theta", "grad", "m", "v", "steps", "lr", "beta1", "beta2")),
        ("lr_scale", ctypes.c_float),
        ("sgd", ctypes.c_int),
    ]


class Game(ctypes.Structure):  # kernel.c's Game
    _fields_ = [
        *((n, ctypes.c_int) for n in ("K", "B", "dim", "zdim", "diffs", "d_steps", "g_steps", "loss", "threads")),
        ("m", ctypes.c_int),
        ("r1", ctypes.c_float),
        ("r2", ctypes.c_float),
        ("G", Net),
        ("D", Net),
        ("ema", ctypes.c_void_p),
        ("ema_weight", ctypes.c_float),
        *((name, ctypes.c_void_p) for name in ("logits_d", "logits_g", "fakes", "work")),
        ("g_kinds", ctypes.c_void_p),
    ]


@dataclass(frozen=True)
class Kernel:
    """The loaded library, which variant it is, and the CPU's level as it reported it."""

    lib: ctypes.CDLL
    variant: str
    cpu_level: int

    def code(self, name: str) -> int:
        """kernel.c's code for an activation or a loss ("ns" is bce's)."""
        code = self.lib.kernel_code({"ns": "bce"}.get(name, name).encode())
        if code < 0:
            raise ValueError(f"kernel.c has no code for {name!r}")
        return code


def wanted() -> bool:
    """Whether the compiled kernel may be used at all (GANFIT_COMPILED=0: never, e.g. for torch's goldens)."""
    return os.environ.get("GANFIT_COMPILED", "1") != "0"


def _directory() -> Path:
    return Path(os.environ.get("GANFIT_KERNEL_DIR") or HERE)  # another folder: the failure tests' libraries


def _path(variant: str) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = _directory() / f"_kernel_{variant}{suffix}"
        if path.exists():
            return path
    return None


_SIGNATURES = {  # name: (argument types, result type)
    "kernel_abi": ([], ctypes.c_int),
    "kernel_source": ([], ctypes.c_char_p),
    "kernel_sizeof": ([ctypes.c_int], ctypes.c_long),
    "kernel_code": ([ctypes.c_char_p], ctypes.c_int),
    "kernel_cpu_level": ([], ctypes.c_int),
    "kernel_step": ([ctypes.c_void_p] * 4, None),  # (Game *, real, z_d, z_g)
    "kernel_steps": ([ctypes.c_void_p] * 4 + [ctypes.c_int] + [ctypes.c_void_p] * 2, None),
    "kernel_critics": ([ctypes.c_void_p] * 5 + [ctypes.c_int], None),  # (Game *, real, fake, steps, r1s, most)
    "kernel_work": ([ctypes.c_void_p], ctypes.c_long),
    "kernel_uniform": ([ctypes.c_void_p] * 2 + [ctypes.c_int] * 2 + [ctypes.c_long, ctypes.c_void_p], None),
    "kernel_forward_work": ([ctypes.c_int, ctypes.c_void_p], ctypes.c_long),
    "kernel_forward": (
        [ctypes.c_int, *[ctypes.c_void_p] * 7, ctypes.c_int, ctypes.c_long, *[ctypes.c_void_p] * 2],
        None,
    ),
}


def check_elf(data: bytes) -> str | None:
    """Why an ELF shared library cannot be loaded whole, or None: every segment and the section table lie
    inside the file. dlopen maps a truncated file without complaint, and the process dies of SIGBUS when
    it touches the part that is not there."""
    if data[:4] != b"\x7fELF":
        return "not an ELF library"
    if data[4] != 2 or data[5] not in (1, 2):
        return "not a 64-bit ELF library"
    end = "<" if data[5] == 1 else ">"
    try:
        phoff, shoff = struct.unpack_from(end + "QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 0x36)
        for i in range(phnum):
            kind, _, offset, _, _, filesz = struct.unpack_from(end + "IIQQQQ", data, phoff + i * phentsize)
            if kind == 1 and offset + filesz > len(data):  # PT_LOAD
                return "truncated (a segment ends past the end of the file)"
    except struct.error:
        return "truncated (its headers end past the end of the file)"
    if shnum and shoff + shnum * shentsize > len(data):
        return "truncated (its section table ends past the end of the file)"
    return None


def _open(path: Path) -> ctypes.CDLL:
    """The library at path with every signature set, if it is the kernel this package expects; else
    OSError with the reason."""
    if path.is_dir():
        raise OSError(f"{path.name} is a directory")
    if platform.system() == "Linux":
        why = check_elf(path.read_bytes())
        if why:
            raise OSError(f"{path.name}: {why}")
    try:
        lib = ctypes.CDLL(str(path))
        for name, (args, result) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, result
    except (OSError, AttributeError) as e:  # not a library, not this platform's, noexec, a missing symbol
        raise OSError(str(e).split("\n")[0]) from None
    if lib.kernel_abi() != ABI:
        raise OSError(f"ABI {lib.kernel_abi()}, this ganfit needs {ABI}")
    if (lib.kernel_sizeof(0), lib.kernel_sizeof(1)) != (ctypes.sizeof(Game), ctypes.sizeof(Net)):
        raise OSError("its structs' sizes differ from native.py's")
    built_from = lib.kernel_source().decode()
    if SOURCE.exists() and built_from != hashlib.sha256(SOURCE.read_bytes()).hexdigest():
        raise OSError("built from another kernel.c than the one beside it: reinstall ganfit (make, or pip install)")
    return lib


def choose(level: int, forced: str, available: list[str]) -> tuple[str | None, str | None]:
    """(the variant to load, or None; a note, or None) for a CPU of x86-64 `level` (0 off x86), the
    GANFIT_KERNEL value `forced` ("" or auto: the best) and the variants that are there. A variant the
    CPU cannot run is never chosen: it would end the process with SIGILL."""
    runnable = [v for v in VARIANTS if v in available and (VARIANTS[v] == 0 or VARIANTS[v] <= level)]
    if forced in ("", "auto"):
        return (runnable[0] if runnable else None), None
    best = runnable[0] if runnable else None
    if forced not in VARIANTS:
        return best, f"GANFIT_KERNEL={forced!r} is not one of auto, {', '.join(VARIANTS)}"
    if forced in runnable:
        return forced, None
    why = "this CPU cannot run it" if forced in available else "it was not built"
    return best, f"GANFIT_KERNEL={forced}: {why}"


_noted: set[str] = set()


def note(line: str) -> None:
    """Say something about the kernel once per process, on stderr, in one line."""
    if line not in _noted:
        _noted.add(line)
        print(f"ganfit: note: {line}", file=sys.stderr)


def kernel() -> Kernel | None:
    """The best variant of the kernel this CPU runs, loaded and checked; None where GANFIT_COMPILED=0 or
    there is none (said once)."""
    if not wanted():
        return None
    return _load(os.environ.get("GANFIT_KERNEL", "").strip().lower(), str(_directory()))


@cache
def _load(forced: str, directory: str) -> Kernel | None:
    slow = "ganfit runs torch's step instead (2-6x slower)"
    base = _path("generic")
    if base is None:
        note(f"ganfit was installed without its compiled kernel (no C compiler then?): {slow}")
        return None
    try:
        level = _open(base).kernel_cpu_level()
        variant, why = choose(level, forced, [v for v in VARIANTS if _path(v) is not None])
        if why:
            note(f"{why}; using the {variant} kernel")
        return Kernel(_open(_path(variant)), variant, level)
    except OSError as e:
        note(f"the compiled kernel in {directory} cannot be used ({e}): {slow}")
        return None


def library() -> ctypes.CDLL | None:
    """The loaded kernel's library, or None (see kernel())."""
    k = kernel()
    return k.lib if k else None


def variant() -> str | None:
    """Which variant runs here (avx512, avx2, generic), or None: recorded with every run (provenance)."""
    k = kernel()
    return k.variant if k else None


def cpu_isa() -> str:
    """The instruction set that decides float rounding here: torch's CPU capability (AVX512, AVX2,
    DEFAULT, ...; ATEN_CPU_CAPABILITY forces it) and the machine."""
    return f"{platform.machine()}/{torch.backends.cpu.get_cpu_capability()}"


def cpu_simd() -> str:
    """The widest vector instructions this CPU has (AVX512, AVX2, or "base"), whatever ATEN_CPU_CAPABILITY
    forces: numpy and MKL pick their vector code from the CPU itself, so an AVX-512 CPU forced to torch's
    AVX2 path gives an AVX2-only CPU's weights but not its metrics, bit for bit (tests/golden). Off x86
    or without /proc/cpuinfo: the architecture."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), None)
    except OSError:
        flags = None
    if not flags:
        return platform.machine()
    return "AVX512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "base"


def cpu_vendor() -> str:
    """The CPU's maker (GenuineIntel, AuthenticAMD, ...; where /proc/cpuinfo has no vendor_id, as on ARM,
    what platform.processor() says, often the architecture alone, else "unknown"). The same instruction
    set rounds differently on two makers' CPUs: torch's BLAS on x86 (MKL) takes its own paths on each,
    and on an Intel Xeon and an AMD EPYC, both AVX-512, every golden run's bits differ (tests/golden),
    the compiled ones' too."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def platform_info() -> dict[str, str]:
    """Where float rounding is decided, for provenance: torch's path (cpu_isa), the CPU's own vector
    instructions (cpu_simd), its maker and the kernel's variant."""
    return {"cpu": cpu_isa(), "simd": cpu_simd(), "vendor": cpu_vendor(), "kernel": variant() or "none"}


def forward(
    layers: list[tuple[torch.Tensor, torch.Tensor]], acts: list[str], x: torch.Tensor, kinds: list[str] | None = None
) -> torch.Tensor:
    """An ensemble MLP's output [K, rows, out] at x [K, rows, in] with kernel.c (library() must be
    there): layers are (W [K, in, out], b [K, 1, out]) float32 CPU tensors, each member's contiguous;
    with `kinds`, member k's hidden activation is kinds[k] (models.MLP's), a call per run of one kind."""
    if not kinds:
        return _forward(layers, acts, x)
    out, start = [], 0
    for end in range(1, len(kinds) + 1):
        if end == len(kinds) or kinds[end] != kinds[start]:
            part = [(w[start:end], b[start:end]) for w, b in layers]
            out.append(_forward(part, [kinds[start]] * len(acts), x[start:end]))
            start = end
    return torch.cat(out)


def _forward(layers: list[tuple[torch.Tensor, torch.Tensor]], acts: list[str], x: torch.Tensor) -> torch.Tensor:
    k = kernel()
    K, rows, _ = x.shape
    sizes = [layers[0][0].shape[1]] + [w.shape[2] for w, _ in layers]
    for w, b in layers:
        assert w[0].is_contiguous() and b[0].is_contiguous() and w.dtype == b.dtype == torch.float32
    x = x.contiguous()
    out = torch.empty(K, rows, sizes[-1])
    n = len(layers)
    ints = (ctypes.c_int * (n + 1))(*sizes)
    work = torch.empty(k.lib.kernel_forward_work(n, ints))
    args = [
        (ctypes.c_int * max(1, n - 1))(*(k.code(a) for a in acts)),
        (ctypes.c_void_p * n)(*(w.data_ptr() for w, _ in layers)),
        (ctypes.c_long * n)(*(w.stride(0) for w, _ in layers)),
        (ctypes.c_void_p * n)(*(b.data_ptr() for _, b in layers)),
        (ctypes.c_long * n)(*(b.stride(0) for _, b in layers)),
    ]
    k.lib.kernel_forward(n, ints, *args, x.data_ptr(), K, rows, out.data_ptr(), work.data_ptr())
    return out

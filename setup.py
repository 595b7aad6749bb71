"""Builds kernel.c (ganfit/game) once per instruction set when ganfit is installed; everything else is in
pyproject.toml. Each variant is optional: where there is no C compiler, or one variant does not build,
the install goes on and ganfit runs torch's step there, saying so once (game/native.py)."""

import hashlib
import platform
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = "src/ganfit/game/kernel.c"
# No -ffast-math: its reassociated sums depend on the vector width, and its reciprocals turned an inf into
# a NaN (kernel.c). -fno-math-errno lets sqrtf vectorise; -fno-trapping-math, the activations' selects.
COMMON = ["-O3", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=fast", "-pthread"]
X86 = {  # by x86-64 level, named features rather than -march=x86-64-vN: no BMI or MOVBE sneaks in
    "avx512": ["-mavx2", "-mfma", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq"],
    "avx2": ["-mavx2", "-mfma"],
}


def variants() -> dict[str, list[str]]:
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    return (X86 if x86 else {}) | {"generic": []}


class OptionalBuildExt(build_ext):
    """A variant that does not build is left out with one line, never a failed install."""

    def run(self):
        try:
            super().run()
        except Exception as e:  # no compiler at all (DistutilsPlatformError and friends)
            print(f"ganfit: the compiled kernel was not built ({e}); ganfit will run torch's step", file=sys.stderr)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            print(f"ganfit: kernel variant {ext.name} was not built ({e})", file=sys.stderr)


digest = hashlib.sha256(Path(SOURCE).read_bytes()).hexdigest()
extensions = [
    Extension(
        f"ganfit.game._kernel_{name}",
        [SOURCE],
        extra_compile_args=COMMON + flags,
        extra_link_args=["-pthread"],
        libraries=["m"] if platform.system() != "Windows" else [],
        define_macros=[("KERNEL_SOURCE", f'"{digest}"')],
        optional=True,
    )
    for name, flags in variants().items()
]
setup(ext_modules=extensions, cmdclass={"build_ext": OptionalBuildExt})

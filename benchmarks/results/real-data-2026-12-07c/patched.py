"""Screen (2026-12-07c): `fitting.conclude` again, in memory, on the kept runs of `benchmarks/real_data.py
--keep DIR`, with module constants of ganfit.sampler or ganfit.fitting replaced (e.g. sampler.QUANTILE=0.99):
the critic, the kernel and every comparison row as a fit with that constant would give them.

usage: patched.py DIR [GLOB] [module.NAME=VALUE ...]
(one JSON line per run; ../real-data-2026-12-07b/table.py reads them)"""

import ast
import sys

from kept import conclude_each

from ganfit import fitting, sampler

MODULES = {"sampler": sampler, "fitting": fitting}


def main() -> None:
    pattern = next((a for a in sys.argv[2:] if "=" not in a), "*")
    for patch in (a for a in sys.argv[2:] if "=" in a):
        name, value = patch.split("=", 1)
        module, attr = name.split(".")
        setattr(MODULES[module], attr, ast.literal_eval(value))
    conclude_each(sys.argv[1], pattern)


if __name__ == "__main__":
    main()

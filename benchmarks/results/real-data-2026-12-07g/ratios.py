"""timing-ab.txt's pairs as ratios (critics in C / critics in torch's ops), per set and overall.

python ratios.py timing-ab.txt > ratios.txt
"""

import sys

import numpy as np

sets: dict = {}
for line in open(sys.argv[1]):
    _, spec, which, t, _ = line.split(" | ")
    sets.setdefault(spec, {}).setdefault(which, []).append(float(t.split()[0]))
ratios = []
for spec, d in sets.items():
    r = [a / b for a, b in zip(d["critics in C"], d["critics in torch"])]
    ratios += r
    print(f"{spec:50s} torch {d['critics in torch']} s, C {d['critics in C']} s, C / torch {np.round(r, 2).tolist()}")
print(f"C / torch: mean {np.mean(ratios):.3f}, {min(ratios):.2f}-{max(ratios):.2f}")

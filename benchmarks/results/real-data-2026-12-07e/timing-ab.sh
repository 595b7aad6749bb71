#!/bin/bash
# Command-to-exit time of `ganfit fit` on each of the eight sets, whole as a CSV, with the train part's MMD
# at each metric row (23fde18, a worktree in /tmp/old with this checkout's built kernels, first on
# PYTHONPATH) and without it (this checkout), alternating, three rounds; and whether both gave the same
# test scores (the chosen sampler's line of the comparison). The CSVs: ../real-data-2026-12-07d/timing.sh.
D=${1:-/tmp/fit-timing}
PY=$(cd "$(dirname "$0")/../../.." && pwd)/.venv/bin/python
NEW=$(cd "$(dirname "$0")/../../.." && pwd)/src
for rep in 1 2 3; do
  for spec in "quakes.csv --column depth" "quakes.csv --columns lat,long" "rivers.csv --column length" \
      "cats.csv --columns Bwt,Hwt" "faithful.csv --column eruptions" "faithful.csv --columns eruptions,waiting" \
      "geyser.csv --column duration" "penguins.csv --column body_mass_g --drop-missing"; do
    for which in with without; do
      rm -rf $D/run
      path=$([ $which = with ] && echo /tmp/old/src || echo $NEW)
      s=$(date +%s.%N)
      (cd $D && PYTHONPATH=$path $PY -m ganfit fit $spec --out $D/run > $D/run.log 2>&1) || echo "FAIL $spec"
      e=$(date +%s.%N)
      score=$(grep -m1 "chosen on validation" $D/run.log | awk '{print $(NF-1), $NF}')
      echo "$rep | $spec | train MMD $which | $(python3 -c "print(f'{$e-$s:.1f}')") s | $score"
    done
  done
done

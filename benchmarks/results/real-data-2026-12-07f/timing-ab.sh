#!/bin/bash
# Command-to-exit time of `ganfit fit` on the five 1-D sets, whole as CSVs (../real-data-2026-12-07d/timing.sh
# writes them), with one kind of G (6dbe3ba: a worktree in /tmp/old with kernels built from its own
# kernel.c, first on PYTHONPATH) and with two (this checkout), alternating, ROUNDS rounds; and each run's
# chosen sampler's test scores (the comparison's first line). The 2-D fits are the same code as before.
D=${1:-/tmp/fit-timing}
ROUNDS=${2:-2}
PY=$(cd "$(dirname "$0")/../../.." && pwd)/.venv/bin/python
NEW=$(cd "$(dirname "$0")/../../.." && pwd)/src
for rep in $(seq $ROUNDS); do
  for spec in "quakes.csv --column depth" "rivers.csv --column length" "faithful.csv --column eruptions" \
      "geyser.csv --column duration" "penguins.csv --column body_mass_g --drop-missing"; do
    for which in one two; do
      rm -rf $D/run
      path=$([ $which = one ] && echo /tmp/old/src || echo $NEW)
      s=$(date +%s.%N)
      (cd $D && PYTHONPATH=$path $PY -m ganfit fit $spec --out $D/run > $D/run.log 2>&1) || echo "FAIL $spec"
      e=$(date +%s.%N)
      score=$(grep -m1 "chosen on validation" $D/run.log | awk '{print $(NF-1), $NF}')
      echo "$rep | $spec | $which kind(s) of G | $(python3 -c "print(f'{$e-$s:.1f}')") s | $score"
    done
  done
done

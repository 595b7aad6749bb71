#!/bin/bash
# Command-to-exit time of `ganfit fit` on the eight sets, whole as CSVs (../real-data-2026-12-07d/timing.sh
# writes them), with the critics in torch's ops (a99485f: a worktree in /tmp/old with kernels built from its
# own kernel.c, first on PYTHONPATH) and in kernel.c (this checkout), alternating, ROUNDS rounds; and each
# run's chosen sampler's test scores (the comparison's first line).
D=${1:-/tmp/fit-timing}
ROUNDS=${2:-2}
PY=$(cd "$(dirname "$0")/../../.." && pwd)/.venv/bin/python
NEW=$(cd "$(dirname "$0")/../../.." && pwd)/src
for rep in $(seq $ROUNDS); do
  for spec in "quakes.csv --column depth" "quakes.csv --columns lat,long" "rivers.csv --column length" \
      "cats.csv --columns Bwt,Hwt" "faithful.csv --column eruptions" "faithful.csv --columns eruptions,waiting" \
      "geyser.csv --column duration" "penguins.csv --column body_mass_g --drop-missing"; do
    for which in torch C; do
      rm -rf $D/run
      path=$([ $which = torch ] && echo /tmp/old/src || echo $NEW)
      s=$(date +%s.%N)
      (cd $D && PYTHONPATH=$path $PY -m ganfit fit $spec --out $D/run > $D/run.log 2>&1) || echo "FAIL $spec"
      e=$(date +%s.%N)
      score=$(grep -m1 "chosen on validation" $D/run.log | awk '{print $(NF-1), $NF}')
      echo "$rep | $spec | critics in $which | $(python3 -c "print(f'{$e-$s:.1f}')") s | $score"
    done
  done
done

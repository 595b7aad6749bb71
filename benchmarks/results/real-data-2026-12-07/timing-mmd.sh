#!/bin/bash
# command-to-exit time of `ganfit fit` on the whole set, HEAD before this change (old) and the working tree (new) alternating
cd /tmp/x
for rep in 1 2 3; do
  for spec in "faithful.csv --columns eruptions,waiting" "quakes.csv --columns lat,long"; do
    for ver in old new; do
      if [ $ver = old ]; then PP=/tmp/x/old/src; else PP=/work/main/src; fi
      rm -rf /tmp/x/tr
      s=$(date +%s.%N)
      PYTHONPATH=$PP /work/main/.venv/bin/python -m ganfit fit $spec --out /tmp/x/tr > /tmp/x/tr.log 2>&1 || echo FAIL
      e=$(date +%s.%N)
      echo "$rep | $spec | $ver | $(python3 -c "print(f'{$e-$s:.1f}')") s | $(grep -m1 'ganfit, member' /tmp/x/tr.log | cut -c1-90)"
    done
  done
done

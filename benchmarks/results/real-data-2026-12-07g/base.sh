#!/bin/bash
# The fits before the critics moved to kernel.c, one line per set and split, for paired.py: the 1-D sets from
# ../real-data-2026-12-07f (two kinds of G), the 2-D sets from ../real-data-2026-12-07e (the same code path).
cd "$(dirname "$0")"
{ cat ../real-data-2026-12-07f/defaults-new-0.jsonl ../real-data-2026-12-07f/defaults-new-10.jsonl
  cat ../real-data-2026-12-07e/candidates-0.jsonl ../real-data-2026-12-07e/candidates-10.jsonl |
    grep -E '"set": ?"(quakes-lat-long|cats-bwt-hwt|faithful-2d)"'; } > base.jsonl

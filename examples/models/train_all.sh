#!/usr/bin/env bash
# Reproduces the shipped models examples/models/<simulator>.h5 and their validation figures
# (examples/models/validation/<simulator>/validation.{json,html}); see examples/models/README.md.
#
# usage: examples/models/train_all.sh [SIMULATOR…]     (default: all four; about 15–25 min each on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product pairs >/dev/null
pairs=.build/release/pairs
work=${PAIRS_TRAIN_DIR:-${TMPDIR:-/tmp}/pairs-train}
mkdir -p "$work" examples/models/validation
for simulator in "${@:-gaussian bump extended-bump onoff}"; do
  for s in $simulator; do
    echo "== $s"
    "$pairs" train --simulator "$s" --out "$work/$s-pretrained.h5" --seed 1
    "$pairs" cache --simulator "$s" --model "$work/$s-pretrained.h5" --sets 20000 --n-min 10 --n-max 100000 --seed 2 \
      --out "$work/$s-cache.h5"
    "$pairs" finetune --model "$work/$s-pretrained.h5" --cache "$work/$s-cache.h5" --out "examples/models/$s.h5" \
      --steps 20000 --lr-steps 20000 --lr-learning-rate 0.001 --seed 3
    mkdir -p "examples/models/validation/$s"
    "$pairs" validate --model "examples/models/$s.h5" --simulator "$s" --n 100,1000,10000,100000 --datasets 300 --seed 4 \
      --out "examples/models/validation/$s" | tee "examples/models/validation/$s/table.md"
  done
done

#!/usr/bin/env bash
# The README's main job: install what is missing, build pairs in release mode, simulate shards in two
# layouts from the `bump` simulator (signal fraction f = 0.1 at m = 0.8), check them, and run the whole system
# locally (coordinator + worker processes on loopback) with the shipped, trained bump model; prints where the
# report is. 80 000 events keep N inside the range the model was finetuned on (10…10⁵).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
swift build -c release --product pairs
pairs=.build/release/pairs
work=${PAIRS_DEMO_DIR:-${TMPDIR:-/tmp}/pairs-demo}
rm -rf "$work"
"$pairs" simulate --simulator bump --out "$work/shards/run1" --events 60000 --shards 4 --theta f=0.1,m=0.8 --seed 7
"$pairs" simulate --simulator bump --out "$work/shards/run2" --events 20000 --shards 2 --theta f=0.1,m=0.8 --seed 8 \
  --layout compound --dtype float64
"$pairs" shards "$work/shards"
"$pairs" run --shards "$work/shards" --model examples/models/bump.h5 --out "$work/report" --workers 2 --items-rows 8192
echo "report: $work/report/report.json"

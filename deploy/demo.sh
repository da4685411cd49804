#!/usr/bin/env bash
# The README's main job: install what is missing, build pairs in release mode, simulate shards in two
# layouts, check them, and run the whole system locally (coordinator + worker processes on loopback) with the
# shipped example model; prints where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
swift build -c release --product pairs
pairs=.build/release/pairs
work=${PAIRS_DEMO_DIR:-${TMPDIR:-/tmp}/pairs-demo}
rm -rf "$work"
"$pairs" simulate --out "$work/shards/run1" --events 400000 --shards 4 --set mu=0.5,sigma=1.0 --seed 7
"$pairs" simulate --out "$work/shards/run2" --events 100000 --shards 2 --set mu=0.5,sigma=1.0 --seed 8 --layout compound --dtype float64
"$pairs" shards "$work/shards"
"$pairs" run --shards "$work/shards" --model examples/models/gaussian-random.h5 --out "$work/report" --workers 2 --items-rows 65536
echo "report: $work/report/report.json"

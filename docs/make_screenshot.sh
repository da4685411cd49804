#!/usr/bin/env bash
# Renders docs/report.png: a local run of pairs on 80,000 simulated `bump` events (inside the N range the head
# was finetuned on) with the shipped bump model,
# photographed with headless Chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pairs >/dev/null
pairs=.build/release/pairs
work=${TMPDIR:-/tmp}/pairs-screenshot
rm -rf "$work"
"$pairs" simulate --simulator bump --theta f=0.08,m=0.6 --events 80000 --shards 4 --seed 21 --out "$work/shards"
"$pairs" run --shards "$work/shards" --model examples/models/bump.h5 --out "$work/out" --workers 2
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2200 \
  --screenshot="$PWD/docs/report.png" "file://$work/out/report.html" 2>/dev/null
echo "wrote docs/report.png"

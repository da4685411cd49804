#!/usr/bin/env bash
# Peak resident memory of `pairs shards --scan` (digest + every event read in 64k-row batches) on a
# 2 GiB shard versus a small one, contiguous and gzip-chunked. Memory must not grow with shard size.
#
# usage: Benchmarks/shard-read-memory.sh [WORKDIR]   (needs ~4.5 GB free disk; takes a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-Benchmarks/work/memory}
mkdir -p "$work" Benchmarks/results
deploy/install-deps.sh
python3 -m pip install -q -r Benchmarks/requirements.txt
swift build -c release >/dev/null
pairs=.build/release/pairs

# 2^25 events × 16 Float32 features = 2 GiB of event data.
big=$((1 << 25)); small=$((1 << 20))
for spec in "small-contiguous $small" "big-contiguous $big" "small-gzip $small 4" "big-gzip $big 4"; do
  set -- $spec
  dir="$work/$1"; mkdir -p "$dir"
  [ -f "$dir/shard.h5" ] || python3 Benchmarks/make_reference_shard.py "$dir/shard.h5" --events "$2" ${3:+--gzip $3}
done

out="Benchmarks/results/$(date +%Y-%m-%d)-shard-read-memory.md"
{
  echo "# Peak RSS of \`pairs shards --scan\` (64k-row batches), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); OpenBLAS/HDF5 from Debian."
  echo
  echo "| shard | events | file size | wall time | peak RSS |"
  echo "|---|---:|---:|---:|---:|"
  for name in small-contiguous big-contiguous small-gzip big-gzip; do
    shard="$work/$name/shard.h5"
    stats=$( { /usr/bin/time -f "%e %M" "$pairs" shards "$shard" --scan >/dev/null; } 2>&1 | tail -1)
    read -r seconds kib <<<"$stats"
    events=$("$pairs" shards "$shard" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["events"])')
    size=$(du -h --apparent-size "$shard" | cut -f1)
    awk -v n="$name" -v e="$events" -v s="$size" -v t="$seconds" -v k="$kib" \
      'BEGIN { printf "| %s | %s | %s | %s s | %.1f MiB |\n", n, e, s, t, k / 1024 }'
  done
} | tee "$out"
echo "written to $out"

#!/usr/bin/env bash
# pairs against the Python stacks physicists would use instead, side by side in one run, on the same shards and
# the same network (reference embedder 16→128→128→64 ReLU, random weights): the sgemm-chain roofline, pairs
# end to end (`pairs run`: coordinator + worker processes, read + embed + exact pooling), onnxruntime + h5py,
# numpy + h5py and Dask (distributed, local cluster) over onnxruntime, one thread and all cores; pairs' scaling
# in worker processes; the coordinator's merge rate with 1,000 workers on loopback; the worker's profile.
# Writes Benchmarks/results/<date>.md.
#
# usage: Benchmarks/run.sh [WORKDIR]     (PAIRS_BENCH_EVENTS=10000000 by default: needs ~2 GB of disk, ~20 min)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-Benchmarks/work/peers}
big=${PAIRS_BENCH_EVENTS:-10000000}
small=1000000
cores=$(nproc)
deploy/install-deps.sh time linux-perf
python3 -m pip install -q --root-user-action=ignore -r Benchmarks/requirements.txt
swift build -c release >/dev/null
pairs=.build/release/pairs
bench=.build/release/pairs-bench
mkdir -p "$work" Benchmarks/results
results="$work/results.jsonl"
: >"$results"

# Shards: 16 Float32 features, uncompressed (contiguous) and shuffle+gzip(4) in 16,384-row chunks.
for spec in "big-plain $big" "big-gzip $big 4" "small-plain $small" "small-gzip $small 4" "check 4096"; do
  set -- $spec
  mkdir -p "$work/$1"
  [ -f "$work/$1/shard.h5" ] || python3 Benchmarks/make_reference_shard.py "$work/$1/shard.h5" --events "$2" ${3:+--gzip $3}
done

# The reference network as a pairs bundle and as ONNX; check both peers compute what pairs computes.
"$bench" reference-model --out "$work/reference.h5"
python3 Benchmarks/peers.py export "$work/reference.h5" "$work/reference.onnx"
"$pairs" model embed "$work/reference.h5" "$work/check" --out "$work/check-embeddings.h5" >/dev/null
python3 Benchmarks/peers.py check "$work/reference.h5" "$work/reference.onnx" "$work/check-embeddings.h5" "$work/check/shard.h5"

record() { # JSON line + the fields every row carries
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(json.loads(sys.argv[2])); print(json.dumps(r))' "$1" "$2" | tee -a "$results"
}
pairs_run() { # SHARD-DIR WORKERS: wall time and peak RSS (largest process) of the whole local run, start to exit.
  # Items of 262,144 rows (38 for 10⁷ events) so that up to 8 workers get balanced shares.
  /usr/bin/time -o "$work/time.txt" -f "%e %M" "$pairs" run --shards "$work/$1" --model "$work/reference.h5" \
    --out "$work/out-$1-$2" --workers "$2" --items-rows 262144 >/dev/null 2>"$work/run.log"
  python3 - "$work/time.txt" "$work/out-$1-$2/report.json" <<'PY'
import json, sys
seconds, kib = open(sys.argv[1]).read().split()[-2:]
events = json.load(open(sys.argv[2]))["events_total"]
print(json.dumps({"peer": "pairs run", "events": events, "seconds": float(seconds),
                  "events_per_s": events / float(seconds), "peak_rss_mib": int(kib) / 1024}))
PY
}
# Three interleaved rounds of every measurement; the table takes each stack's best round (the machine is shared
# and noisy: single runs of the same command vary by ±10 % here).
for round in 1 2 3; do
  for shard in big-plain big-gzip; do
    label="{\"shard\": \"$shard\", \"cores\": 1, \"round\": $round}"
    record "$("$bench" roofline --threads 1)" "$label"
    record "$(pairs_run "$shard" 1)" "$label"
    record "$(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 Benchmarks/peers.py ort "$work/$shard/shard.h5" "$work/reference.onnx" --threads 1)" "$label"
    record "$(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 Benchmarks/peers.py numpy "$work/$shard/shard.h5" "$work/reference.h5")" "$label"
    label="{\"shard\": \"$shard\", \"cores\": $cores, \"round\": $round}"
    record "$("$bench" roofline --threads "$cores")" "$label"
    record "$(pairs_run "$shard" "$cores")" "$label"
    record "$(env OMP_NUM_THREADS=$cores python3 Benchmarks/peers.py ort "$work/$shard/shard.h5" "$work/reference.onnx" --threads "$cores")" "$label"
    record "$(env OPENBLAS_NUM_THREADS=$cores python3 Benchmarks/peers.py numpy "$work/$shard/shard.h5" "$work/reference.h5")" "$label"
    record "$(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 Benchmarks/peers.py dask "$work/$shard/shard.h5" "$work/reference.onnx" --workers "$cores")" "$label"
  done
done
# Memory does not grow with the shard: pairs run on 10× fewer events.
for shard in small-plain small-gzip; do
  record "$(pairs_run "$shard" 1)" "{\"shard\": \"$shard\", \"cores\": 1}"
done
# Scaling in worker processes (more processes than cores only shares the cores).
for workers in 1 2 4 8; do
  record "$(pairs_run big-plain "$workers")" "{\"shard\": \"big-plain\", \"cores\": $cores, \"workers\": $workers, \"scaling\": true}"
done

# The worker's profile: perf samples of a one-worker local run (the coordinator idles) per shard kind.
profile="$work/profile.txt"
: >"$profile"
for shard in big-plain big-gzip; do
  perf record -q -F 499 -o "$work/perf.data" -- "$pairs" run --shards "$work/$shard" --model "$work/reference.h5" \
    --out "$work/out-profile" --workers 1 >/dev/null 2>&1
  echo "== $shard" >>"$profile"
  # sed, not head: head would close the pipe early and pipefail would end the script.
  perf report -q -i "$work/perf.data" --stdio --no-children --sort dso,symbol 2>/dev/null | sed -e '/^$/d' -e 's/  *$//' | sed -n 1,20p >>"$profile"
done

out="Benchmarks/results/$(date +%Y-%m-%d).md"
python3 Benchmarks/table.py "$results" --merge "$("$bench" merge-loopback --workers 1000)" --worker "$("$bench" worker)" \
  --profile "$profile" --cores "$cores" >"$out"
cat "$out"
echo "written to $out"

#!/usr/bin/env bash
# Multi-host test on one machine: the coordinator and two workers each in their own network namespace, joined
# by veth pairs (10.91.1.0/24 to worker 1, 10.91.2.0/24 to worker 2). Mid-run, worker 1's link is cut; the
# coordinator must notice the silence, give its items to worker 2, and write the same report as `pairs run`.
# Needs root (ip netns). Usage: deploy/netns/test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
if [ -z "${PAIRS_BIN:-}" ]; then swift build -c release --product pairs >/dev/null; fi
pairs=${PAIRS_BIN:-$repo/.build/release/pairs}
work=$(mktemp -d /tmp/pairs-netns.XXXXXX)
tag=p$$
c=$tag-coord w1=$tag-w1 w2=$tag-w2
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for ns in "$c" "$w1" "$w2"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

for ns in "$c" "$w1" "$w2"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
for i in 1 2; do
  worker_ns=$tag-w$i
  ip link add "$tag-c$i" netns "$c" type veth peer name "$tag-w$i" netns "$worker_ns"
  ip -n "$c" addr add "10.91.$i.1/24" dev "$tag-c$i"
  ip -n "$worker_ns" addr add "10.91.$i.2/24" dev "$tag-w$i"
  ip -n "$c" link set "$tag-c$i" up
  ip -n "$worker_ns" link set "$tag-w$i" up
done

"$pairs" simulate --simulator gaussian --events 6000000 --shards 6 --seed 23 --contiguous --out "$work/shards" >/dev/null
"$pairs" run --shards "$work/shards" --model examples/models/gaussian.h5 --out "$work/local" --workers 2 --items-rows 20000 >/dev/null 2>&1

# CurveZMQ across the namespaces: keys from pairs keygen, one per worker, the workers' public keys allowed.
mkdir -p "$work/keys/workers"
for name in coordinator w1 w2; do "$pairs" keygen --out "$work/keys/$name" >/dev/null; done
cp "$work/keys/w1.pub" "$work/keys/w2.pub" "$work/keys/workers/"
ip netns exec "$c" "$pairs" coordinator --bind 'tcp://*:5555' --shards "$work/shards" --model examples/models/gaussian.h5 \
  --out "$work/netns" --items-rows 20000 --heartbeat-ms 200 --liveness 3 \
  --curve-secret "$work/keys/coordinator.key" --allowed-workers "$work/keys/workers" > "$work/coordinator.out" 2> "$work/coordinator.log" &
coordinator=$!
for i in 1 2; do
  worker_ns="$tag-w$i"
  ip netns exec "$worker_ns" "$pairs" worker --connect "tcp://10.91.$i.1:5555" --idle-timeout 20 \
    --curve-secret "$work/keys/w$i.key" --coordinator-key "$work/keys/coordinator.pub" 2> "$work/w$i.log" & pids+=($!)
done
for _ in $(seq 100); do [ "$(grep -c 'joined from' "$work/coordinator.log" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
sleep 1
echo "cutting worker 1's link"
ip -n "$c" link set "$tag-c1" down
status=0
wait "$coordinator" || status=$?
cat "$work/coordinator.log" | grep -v "items [0-9]*/" || true
[ "$status" -eq 0 ] || { echo "coordinator exited with $status"; exit 1; }
grep -q "lost: silent" "$work/coordinator.log" || { echo "the coordinator did not notice the cut link"; exit 1; }
grep -q "CurveZMQ on: 2 worker keys allowed" "$work/coordinator.log" || { echo "the coordinator did not use CurveZMQ"; exit 1; }
python3 - "$work/local/report.json" "$work/netns/report.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
released = b["run"]["items"]["released"]
for r in (a, b):
    r.pop("run")
assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True), "reports differ outside run"
assert released > 0, "no item was re-queued: the link was cut too late"
print(f"namespaces (CurveZMQ): worker 1 cut off mid-run, {released} items re-queued, report identical to pairs run outside run")
PY

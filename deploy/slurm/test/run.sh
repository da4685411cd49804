#!/usr/bin/env bash
# A real Slurm test: installs Debian's slurm-wlm and munge, starts munged, slurmctld and slurmd on this machine
# with a generated one-node configuration, submits deploy/slurm/pairs.sbatch on simulated shards, and checks
# that its report equals the one `pairs run` writes for the same shards, byte for byte outside `run`.
# Needs root (it runs the daemons). Usage: deploy/slurm/test/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
repo=$PWD
deploy/install-deps.sh
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
# PAIRS_BIN: an already built pairs executable to test instead of building one.
if [ -z "${PAIRS_BIN:-}" ]; then swift build -c release --product pairs >/dev/null; fi
pairs=${PAIRS_BIN:-$repo/.build/release/pairs}
work=$(mktemp -d /tmp/pairs-slurm.XXXXXX)
host=$(hostname -s)
cleanup() {
  for pid in "$work/slurmd.pid" "$work/slurmctld.pid"; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true; done
  sleep 1
}
trap cleanup EXIT

# munge: a key, a run directory, the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

# A one-node cluster, its state in the work directory.
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=pairs-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo

# The same simulated shards through pairs run and through sbatch.
"$pairs" simulate --simulator gaussian --events 600000 --shards 6 --seed 17 --out "$work/shards" >/dev/null
"$pairs" run --shards "$work/shards" --model examples/models/gaussian.h5 --out "$work/local" --workers 2 --items-rows 40000 >/dev/null 2>&1
# With CurveZMQ: keys made by pairs keygen and handed over as files (PAIRS_KEYS).
mkdir -p "$work/keys/workers"
"$pairs" keygen --out "$work/keys/coordinator" >/dev/null
"$pairs" keygen --out "$work/keys/worker" >/dev/null
cp "$work/keys/worker.pub" "$work/keys/workers/"
job=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --time=10 --chdir="$repo" --output="$work/job.log" \
       --export=ALL,PAIRS="$pairs",PAIRS_KEYS="$work/keys" deploy/slurm/pairs.sbatch "$work/shards" examples/models/gaussian.h5 "$work/slurm" --items-rows 40000)
echo "submitted job $job"
for _ in $(seq 300); do squeue -h -j "$job" 2>/dev/null | grep -q . || break; sleep 1; done
cat "$work/job.log"
grep -q "pairs coordinator exit status: 0" "$work/job.log"
grep -q "CurveZMQ on: 1 worker keys allowed" "$work/job.log" || { echo "the Slurm run did not use CurveZMQ"; exit 1; }
python3 - "$work/local/report.json" "$work/slurm/report.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
workers = b["run"]["worker_count"]
for r in (a, b):
    r.pop("run")
assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True), "reports differ outside run"
print(f"Slurm report (CurveZMQ) equals the pairs run report outside run ({workers} workers via srun)")
PY

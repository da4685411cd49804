#!/usr/bin/env python3
"""Soak test: a journaled pairs run on many small shards while a chaos loop SIGKILLs and restarts random
workers every 0.1-0.25 s and, once, the coordinator (restarted on the same port with the same journal; the
surviving workers find it again by themselves). Passes when the final report equals a clean run's outside its
`run` object and the journal merged every work item exactly once.

usage: tools/soak.py [--pairs .build/release/pairs] [--events 16000000] [--shards 64] [--workers 3]
                     [--seconds 240] [--work DIR]
"""
import argparse
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--pairs", default=os.path.join(here, "..", ".build", "release", "pairs"))
parser.add_argument("--model", default=os.path.join(here, "..", "examples", "models", "gaussian-random.h5"))
parser.add_argument("--events", type=int, default=16_000_000)
parser.add_argument("--shards", type=int, default=64)
parser.add_argument("--workers", type=int, default=3)
parser.add_argument("--items-rows", type=int, default=16384)
parser.add_argument("--seconds", type=float, default=240, help="give up (and fail) after this long")
parser.add_argument("--seed", type=int, default=11)
parser.add_argument("--work", default=None)
a = parser.parse_args()
work = a.work or tempfile.mkdtemp(prefix="pairs-soak-")
os.makedirs(work, exist_ok=True)
rng = random.Random(a.seed)


def pairs(*args, **kw):
    return subprocess.run([a.pairs, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def report_without_run(path):
    with open(os.path.join(path, "report.json")) as f:
        r = json.load(f)
    r.pop("run", None)
    return r


def journal_items(path):
    """Item ids of the journal's merged-partial records, in order (format: schemas/wire.md, Journal)."""
    data = open(path, "rb").read()
    assert data[:8] == b"PAIRSJNL", "not a journal"
    offset, items, first = 8, [], True
    while offset + 8 <= len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        if offset + 8 + length > len(data):
            break  # torn last record
        payload = data[offset + 8:offset + 8 + length]
        offset += 8 + length
        if first:
            first = False
            continue
        if payload[0] == 1:  # merged: string worker, then the partial, which starts with u64 item
            (n,) = struct.unpack_from("<I", payload, 1)
            (item,) = struct.unpack_from("<Q", payload, 5 + n)
            items.append(item)
    return items


shards = os.path.join(work, "shards")
if not os.path.isdir(shards):
    pairs("simulate", "--out", shards, "--events", str(a.events), "--shards", str(a.shards), "--seed", "3")
common = ["--shards", shards, "--model", a.model, "--items-rows", str(a.items_rows)]
print(f"soak: {a.events:,} events in {a.shards} shards under {work}", flush=True)
pairs("run", *common, "--out", os.path.join(work, "clean"), "--workers", "2")
expected_items = sum((a.events // a.shards + (1 if s < a.events % a.shards else 0) + a.items_rows - 1) // a.items_rows
                     for s in range(a.shards))

with socket.socket() as s:  # a free port, reused by the restarted coordinator
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
endpoint = f"tcp://127.0.0.1:{port}"
journal = os.path.join(work, "run.journal")
if os.path.exists(journal):  # from an earlier soak in the same --work directory
    os.remove(journal)
log = open(os.path.join(work, "chaos.log"), "w")


def coordinator():
    return subprocess.Popen([a.pairs, "coordinator", "--bind", endpoint, *common, "--out", os.path.join(work, "soak"),
                             "--journal", journal, "--heartbeat-ms", "200", "--liveness", "3"],
                            stdout=log, stderr=log)


def worker():
    return subprocess.Popen([a.pairs, "worker", "--connect", endpoint, "--idle-timeout", "30"], stdout=log, stderr=log)


boss = coordinator()
time.sleep(0.3)
workers = [worker() for _ in range(a.workers)]
worker_kills = coordinator_kills = 0
deadline = time.time() + a.seconds
while boss.poll() is None or coordinator_kills == 0:
    if time.time() > deadline:
        print("soak: FAILED, the run did not finish in time", flush=True)
        for p in workers + [boss]:
            p.kill()
        sys.exit(1)
    time.sleep(rng.uniform(0.1, 0.25))
    merged = len(journal_items(journal)) if os.path.exists(journal) else 0
    if coordinator_kills == 0 and merged >= 0.4 * expected_items:
        boss.send_signal(signal.SIGKILL)
        boss.wait()
        coordinator_kills += 1
        print(f"soak: killed the coordinator after {merged} of {expected_items} items", flush=True)
        time.sleep(0.2)
        boss = coordinator()
        continue
    if boss.poll() is not None:
        break
    victim = rng.randrange(len(workers))
    workers[victim].send_signal(signal.SIGKILL)
    workers[victim].wait()
    worker_kills += 1
    workers[victim] = worker()
status = boss.wait()
for p in workers:
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()

items = journal_items(journal)
identical = status == 0 and report_without_run(os.path.join(work, "soak")) == report_without_run(os.path.join(work, "clean"))
once = len(items) == expected_items and len(set(items)) == len(items)
print(f"soak: {worker_kills} worker kills, {coordinator_kills} coordinator kill; coordinator exit {status}; "
      f"journal: {len(items)} merged records for {expected_items} items, {len(items) - len(set(items))} merged twice; "
      f"report identical to the clean run: {identical}", flush=True)
ok = identical and once and worker_kills >= 20 and coordinator_kills == 1
print("soak: PASSED" if ok else "soak: FAILED (see chaos.log in " + work + ")")
sys.exit(0 if ok else 1)

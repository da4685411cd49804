#!/usr/bin/env python3
"""Turns the JSON lines of Benchmarks/run.sh into the Markdown results page (ratios measured in one run)."""
import argparse
import json
import platform
import time

parser = argparse.ArgumentParser()
parser.add_argument("results")
parser.add_argument("--merge", required=True, help="pairs-bench merge-loopback output")
parser.add_argument("--worker", required=True, help="pairs-bench worker output")
parser.add_argument("--profile", required=True)
parser.add_argument("--cores", type=int, required=True)
a = parser.parse_args()

rows = [json.loads(line) for line in open(a.results) if line.strip()]


def find(peer, shard, cores, scaling=False):
    """The best of the rounds measured for this stack, shard and core count."""
    matches = [r for r in rows
               if r["peer"] == peer and r["shard"] == shard and r["cores"] == cores and r.get("scaling", False) == scaling]
    return max(matches, key=lambda r: r["events_per_s"], default=None)


def mega(rate):
    return f"{rate / 1e6:.3f} M"


cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.machine())
memory = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")) / 1048576
events = next(r["events"] for r in rows if r["peer"] == "pairs run" and r["shard"] == "big-plain")
out = [f"# pairs vs the Python stacks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
       f"Machine: {cpu}, {a.cores} cores, {memory:.0f} GiB. Reference embedder 16→128→128→64 ReLU (Float32, random weights), "
       f"shards of {events:,} events × 16 Float32 features, uncompressed (contiguous) and shuffle+gzip(4) in 16,384-row "
       "chunks, 65,536-row reads. pairs: `pairs run` wall time end to end (process start → report written, "
       "coordinator + worker processes, exact pooling); peers: from opening the shard to the final float64 sums "
       "(interpreter start-up and imports not counted; Dask's cluster already running). Peak RSS: the largest "
       "process of the run. Each throughput is the best of three interleaved rounds (single runs vary by ±10 % on "
       "this shared machine); ratios are between those bests. Reproduce: `Benchmarks/run.sh`.", ""]

peers = ["sgemm chain roofline", "pairs run", "onnxruntime+h5py", "numpy+h5py", "dask+onnxruntime+h5py"]
names = {"sgemm chain roofline": "OpenBLAS sgemm chain (roofline: the three GEMMs only)",
         "pairs run": "**pairs** (read + standardise + embed + exact pooling)",
         "onnxruntime+h5py": "onnxruntime + h5py, float64 numpy sums",
         "numpy+h5py": "numpy + h5py, float64 sums",
         "dask+onnxruntime+h5py": f"Dask distributed ({a.cores} worker processes) + onnxruntime + h5py"}
checks = []
for shard, title in [("big-plain", "uncompressed"), ("big-gzip", "shuffle + gzip(4)")]:
    out += [f"## Throughput, {title} shard", "",
            f"| stack | 1 core: events/s | pairs ÷ stack | {a.cores} cores: events/s | pairs ÷ stack | peak RSS 1 / {a.cores} cores |",
            "|---|---:|---:|---:|---:|---:|"]
    for peer in peers:
        cells = [names[peer]]
        rss = []
        for cores in (1, a.cores):
            r, p = find(peer, shard, cores), find("pairs run", shard, cores)
            if r is None:
                cells += ["—", "—"]
                rss.append("—")
                continue
            cells += [mega(r["events_per_s"]), f"{p['events_per_s'] / r['events_per_s']:.2f}"]
            rss.append(f"{r['peak_rss_mib']:.0f} MiB" if "peak_rss_mib" in r else "—")
        cells.append(" / ".join(rss))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    p1, o1, r1 = find("pairs run", shard, 1), find("onnxruntime+h5py", shard, 1), find("sgemm chain roofline", shard, 1)
    checks.append((shard, p1["events_per_s"] / o1["events_per_s"], p1["events_per_s"] / r1["events_per_s"]))

out += ["## Targets (one core)", "", "| shard | pairs ÷ onnxruntime+h5py (target ≥ 1.3, aim 1.5) | pairs ÷ roofline (target ≥ 0.8) |",
        "|---|---:|---:|"]
for shard, vs_ort, vs_roof in checks:
    out.append(f"| {shard} | {vs_ort:.2f} {'✓' if vs_ort >= 1.3 else '✗'} | {vs_roof:.2f} {'✓' if vs_roof >= 0.8 else '✗'} |")
out += ["", "The roofline is the bare GEMM chain (beta = 0, no reading, no bias, no pooling); on the gzip shard every "
        "stack also pays decompression, which the roofline leaves out.", ""]

out += ["## Memory does not grow with the shard", "", "| shard | events | pairs run peak RSS |", "|---|---:|---:|"]
for shard in ["small-plain", "big-plain", "small-gzip", "big-gzip"]:
    r = find("pairs run", shard, 1)
    out.append(f"| {shard} | {r['events']:,} | {r['peak_rss_mib']:.1f} MiB |")
out.append("")

out += [f"## Scaling in worker processes ({a.cores} cores: beyond {a.cores} processes share them)", "",
        "| workers | events/s | ÷ 1 worker |", "|---:|---:|---:|"]
scaling = sorted((r for r in rows if r.get("scaling")), key=lambda r: r["workers"])
base = scaling[0]["events_per_s"]
for r in scaling:
    out.append(f"| {r['workers']} | {mega(r['events_per_s'])} | {r['events_per_s'] / base:.2f} |")
out.append("")


def demote(text):
    """Sub-results keep their own headings one level down."""
    return "\n".join(("#" + line) if line.startswith("# ") else line for line in text.strip().splitlines())


out += [demote(a.merge), "", demote(a.worker), ""]
out += ["## Worker profile (perf, one worker, samples by library and symbol)", "", "```", open(a.profile).read().rstrip(), "```", ""]
print("\n".join(out))

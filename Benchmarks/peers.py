#!/usr/bin/env python3
"""The Python stacks a physicist would use instead of pairs, on the same shards and the same network.

    peers.py export BUNDLE OUT.onnx                      the bundle's embedder as an ONNX graph (same weights, same ops)
    peers.py check BUNDLE OUT.onnx EMBEDDINGS.h5 SHARD    ONNX and numpy outputs against `pairs model embed` output
    peers.py ort SHARD OUT.onnx [--threads T]            onnxruntime + h5py, float64 numpy sums
    peers.py numpy SHARD BUNDLE                          numpy + h5py (numpy's BLAS; set OPENBLAS_NUM_THREADS)
    peers.py dask SHARD OUT.onnx --workers W             the ort peer as Dask tasks on a local distributed cluster

Every measuring command prints one JSON object: events, seconds (from opening the shard to the final sums),
events_per_s, peak_rss_mib (largest process) and a checksum of the pooled sums. Shards are read in 65,536-row
batches into one preallocated buffer (h5py read_direct), the way a careful user would write it.
"""
import argparse
import json
import resource
import sys
import time

import h5py
import numpy as np

BATCH = 65536


def load_mlp(path, group="embedder"):
    """The MLP group of a pairs bundle (schemas/model-bundle.md) as numpy arrays."""
    with h5py.File(path, "r") as f:
        g = f[group]
        mean = g["input_mean"][()].astype(np.float32)
        std = g["input_std"][()].astype(np.float32)
        layers = []
        for i in range(len(g["layers"])):
            layer = g["layers"][str(i)]
            activation = np.atleast_1d(layer.attrs["activation"])[0]  # scalar or [1], str or bytes
            activation = activation.decode() if isinstance(activation, bytes) else str(activation)
            if activation not in ("relu", "identity"):
                raise SystemExit(f"{path}: layer {i} activation '{activation}' is not supported by the peers (relu, identity)")
            layers.append((layer["weight"][()].astype(np.float32), layer["bias"][()].astype(np.float32), activation))
    return mean, std, layers


def export(bundle, out):
    """(x − mean) / std, then Gemm(transB) + Relu per layer: the bundle's embedder, op for op."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    mean, std, layers = load_mlp(bundle)
    inits = [numpy_helper.from_array(mean, "input_mean"), numpy_helper.from_array(std, "input_std")]
    nodes = [helper.make_node("Sub", ["x", "input_mean"], ["centred"]),
             helper.make_node("Div", ["centred", "input_std"], ["h0"])]
    current = "h0"
    for i, (w, b, activation) in enumerate(layers):
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        linear = f"z{i}" if activation == "relu" else ("t" if i == len(layers) - 1 else f"h{i + 1}")
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [linear], transB=1))
        if activation == "relu":
            current = "t" if i == len(layers) - 1 else f"h{i + 1}"
            nodes.append(helper.make_node("Relu", [linear], [current]))
        else:
            current = linear
    graph = helper.make_graph(nodes, "pairs_embedder",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", mean.size])],
                              [helper.make_tensor_value_info("t", TensorProto.FLOAT, ["n", layers[-1][0].shape[0]])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(f"wrote {out}: {len(layers)} Gemm layers, {mean.size} → {layers[-1][0].shape[0]}")


def numpy_forward(x, mean, std, layers):
    h = (x - mean) / std
    for w, b, activation in layers:
        h = h @ w.T + b
        if activation == "relu":
            np.maximum(h, 0, out=h)
    return h


def events_dataset(f):
    d = f["events"]
    return d, d.shape[0], d.shape[1]


def session(onnx_path, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])


def pool_rows(shard, start, stop, embed):
    """Σ t over rows [start, stop) in float64, reading BATCH rows at a time into one buffer."""
    with h5py.File(shard, "r") as f:
        d, _, features = events_dataset(f)
        buffer = np.empty((BATCH, features), dtype=np.float32)
        total = None
        for lo in range(start, stop, BATCH):
            n = min(BATCH, stop - lo)
            view = buffer[:n]
            d.read_direct(view, np.s_[lo:lo + n])
            t = embed(view)
            s = t.sum(axis=0, dtype=np.float64)
            total = s if total is None else total + s
    return total


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(peer, events, seconds, sums, rss, **extra):
    print(json.dumps(dict(peer=peer, events=events, seconds=seconds, events_per_s=events / seconds,
                          peak_rss_mib=rss, checksum=float(np.sum(sums)), **extra)))


def run_ort(shard, onnx_path, threads):
    s = session(onnx_path, threads)
    with h5py.File(shard, "r") as f:
        _, events, _ = events_dataset(f)
    t0 = time.perf_counter()
    sums = pool_rows(shard, 0, events, lambda x: s.run(None, {"x": x})[0])
    report("onnxruntime+h5py", events, time.perf_counter() - t0, sums, peak_rss_mib(), threads=threads)


def run_numpy(shard, bundle):
    mean, std, layers = load_mlp(bundle)
    with h5py.File(shard, "r") as f:
        _, events, _ = events_dataset(f)
    t0 = time.perf_counter()
    sums = pool_rows(shard, 0, events, lambda x: numpy_forward(x, mean, std, layers))
    report("numpy+h5py", events, time.perf_counter() - t0, sums, peak_rss_mib())


_worker_session = None


def dask_task(shard, onnx_path, start, stop):
    """One Dask task: a row range with a per-process cached single-threaded onnxruntime session."""
    global _worker_session
    if _worker_session is None:
        _worker_session = session(onnx_path, 1)
    s = _worker_session
    return pool_rows(shard, start, stop, lambda x: s.run(None, {"x": x})[0])


def run_dask(shard, onnx_path, workers, rows_per_task):
    from dask.distributed import Client, LocalCluster

    with h5py.File(shard, "r") as f:
        _, events, _ = events_dataset(f)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: None)  # workers up before the clock starts: a running cluster, as on a facility
        t0 = time.perf_counter()
        futures = [client.submit(dask_task, shard, onnx_path, lo, min(lo + rows_per_task, events), pure=False)
                   for lo in range(0, events, rows_per_task)]
        sums = np.sum(client.gather(futures), axis=0)
        seconds = time.perf_counter() - t0
        worker_rss = client.run(peak_rss_mib)
    report("dask+onnxruntime+h5py", events, seconds, sums, max([peak_rss_mib()] + list(worker_rss.values())),
           workers=workers)


def check(bundle, onnx_path, embeddings, shard):
    """The exported graph and the numpy forward agree with pairs' own embeddings of the same events."""
    with h5py.File(embeddings, "r") as f:
        theirs = f["embeddings"][()]
    with h5py.File(shard, "r") as f:
        x = f["events"][: theirs.shape[0]].astype(np.float32)
    mean, std, layers = load_mlp(bundle)
    ours = {"onnxruntime": session(onnx_path, 1).run(None, {"x": x})[0],
            "numpy": numpy_forward(x, mean, std, layers)}
    scale = np.abs(theirs).max()
    worst = 0.0
    for name, t in ours.items():
        diff = float(np.abs(t - theirs).max() / scale)
        worst = max(worst, diff)
        print(f"{name}: max |Δt| / max |t| = {diff:.2e} over {x.shape[0]} events")
    if worst > 1e-5:
        raise SystemExit(f"the peers do not compute pairs' network (relative difference {worst:.2e} > 1e-5)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export"); p.add_argument("bundle"); p.add_argument("out")
    p = sub.add_parser("check"); p.add_argument("bundle"); p.add_argument("onnx"); p.add_argument("embeddings"); p.add_argument("shard")
    p = sub.add_parser("ort"); p.add_argument("shard"); p.add_argument("onnx"); p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("numpy"); p.add_argument("shard"); p.add_argument("bundle")
    p = sub.add_parser("dask"); p.add_argument("shard"); p.add_argument("onnx"); p.add_argument("--workers", type=int, required=True)
    p.add_argument("--rows-per-task", type=int, default=1 << 20)
    a = parser.parse_args()
    if a.command == "export":
        export(a.bundle, a.out)
    elif a.command == "check":
        check(a.bundle, a.onnx, a.embeddings, a.shard)
    elif a.command == "ort":
        run_ort(a.shard, a.onnx, a.threads)
    elif a.command == "numpy":
        run_numpy(a.shard, a.bundle)
    else:
        run_dask(a.shard, a.onnx, a.workers, a.rows_per_task)


if __name__ == "__main__":
    sys.exit(main())

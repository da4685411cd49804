#!/usr/bin/env python3
"""Writes a reference benchmark shard: Float32 events × 16 features in layout (a), streamed in 1M-row blocks.

usage: make_reference_shard.py OUT.h5 --events N [--gzip LEVEL] [--chunk-rows R] [--seed S]
Without --gzip the dataset is contiguous; with it, chunked (R rows) with byte shuffle + gzip.
"""
import argparse

import h5py
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--events", type=int, required=True)
parser.add_argument("--features", type=int, default=16)
parser.add_argument("--gzip", type=int, default=None)
parser.add_argument("--chunk-rows", type=int, default=16384)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

rng = np.random.default_rng(args.seed)
names = [f"f{i:02d}" for i in range(args.features)]
shape = (args.events, args.features)
kwargs = {}
if args.gzip is not None:
    kwargs = dict(chunks=(min(args.chunk_rows, args.events), args.features), compression="gzip",
                  compression_opts=args.gzip, shuffle=True)
with h5py.File(args.out, "w") as f:
    d = f.create_dataset("events", shape=shape, dtype="<f4", **kwargs)
    d.attrs["features"] = names
    block = 1 << 20
    for start in range(0, args.events, block):
        n = min(block, args.events - start)
        d[start:start + n] = rng.standard_normal((n, args.features), dtype=np.float32)
print(f"wrote {args.out}: {args.events} events x {args.features} features")

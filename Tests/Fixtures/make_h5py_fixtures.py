#!/usr/bin/env python3
"""Writes the small h5py-made shards that pairs' reader is tested against, plus the values it must read.

Run from anywhere: `python3 Tests/Fixtures/make_h5py_fixtures.py` (needs numpy and h5py). The outputs in
Tests/Fixtures/h5py/ are committed, so the Swift tests need neither Python nor h5py.

Each shard mimics what a real tool writes:
  matrix_vlen.h5      (a) 2-D float32 `events`, `features` as an h5py list-of-str attribute, chunked+gzip+shuffle
  matrix_fixed.h5     (a) 2-D float64 `data/events`, `features` as fixed-length bytes, contiguous
  dumper_jets.h5      (b) ATLAS training-dataset-dumper style: 1-D compound `jets` (float32/float64/int32/int8 and a
                          bool field), next to a 2-D compound `tracks` the reader must skip
  columns.h5          (c) group `events` of 1-D float64/float32/int64 datasets, chunked+gzip
  lzf.h5              (a) compressed with h5py's LZF filter (id 32000), which plain libhdf5 cannot decode
values.json records, per shard, the layout, dataset, features with dtypes, and the values as Float32.
"""
import json
import pathlib

import h5py
import numpy as np

out = pathlib.Path(__file__).resolve().parent / "h5py"
out.mkdir(exist_ok=True)
rng = np.random.default_rng(20261204)
rows = 200
record = {}


def as_f32(array):
    """Row-major values as Float32, the way pairs reads them, stored as JSON numbers."""
    return [float(v) for v in np.asarray(array, dtype=np.float32).ravel()]


# (a) 2-D float32 with a list-of-str attribute (h5py writes variable-length UTF-8 strings).
events = rng.normal(size=(rows, 3)).astype(np.float32)
with h5py.File(out / "matrix_vlen.h5", "w") as f:
    d = f.create_dataset("events", data=events, chunks=(64, 3), compression="gzip", compression_opts=4, shuffle=True)
    d.attrs["features"] = ["pt", "eta", "phi"]
record["matrix_vlen.h5"] = dict(layout="matrix", dataset="/events",
                                features=[["pt", "float32"], ["eta", "float32"], ["phi", "float32"]],
                                values=as_f32(events))

# (a) 2-D float64 in a subgroup, fixed-length byte-string attribute, contiguous.
events64 = rng.normal(loc=100, scale=30, size=(rows, 2))
with h5py.File(out / "matrix_fixed.h5", "w") as f:
    d = f.create_group("data").create_dataset("events", data=events64)
    d.attrs["features"] = np.array([b"mjj", b"ht"], dtype="S8")
record["matrix_fixed.h5"] = dict(layout="matrix", dataset="/data/events",
                                 features=[["mjj", "float64"], ["ht", "float64"]], values=as_f32(events64))

# (b) ATLAS training-dataset-dumper style compound `jets` plus a 2-D compound `tracks`.
jet_type = np.dtype([("pt", "<f4"), ("eta", "<f4"), ("mass", "<f8"), ("n_tracks", "<i4"),
                     ("HadronConeExclTruthLabelID", "i1"), ("is_central", "?")])
jets = np.zeros(rows, dtype=jet_type)
jets["pt"] = rng.exponential(50, rows) + 20
jets["eta"] = rng.uniform(-2.5, 2.5, rows)
jets["mass"] = rng.exponential(10, rows)
jets["n_tracks"] = rng.integers(0, 40, rows)
jets["HadronConeExclTruthLabelID"] = rng.choice([0, 4, 5], rows)
jets["is_central"] = np.abs(jets["eta"]) < 1
track_type = np.dtype([("d0", "<f4"), ("z0", "<f4"), ("valid", "?")])
with h5py.File(out / "dumper_jets.h5", "w") as f:
    f.create_dataset("jets", data=jets, chunks=(50,), compression="gzip", compression_opts=7)
    f.create_dataset("tracks", data=np.zeros((rows, 5), dtype=track_type), compression="gzip")
numeric = ["pt", "eta", "mass", "n_tracks", "HadronConeExclTruthLabelID"]
record["dumper_jets.h5"] = dict(layout="compound", dataset="/jets",
                                features=[["pt", "float32"], ["eta", "float32"], ["mass", "float64"], ["n_tracks", "int32"],
                                          ["HadronConeExclTruthLabelID", "int8"], ["is_central", "enum"]],
                                numeric=numeric,
                                values=as_f32(np.stack([jets[n].astype(np.float64) for n in numeric], axis=1)))

# (c) A group of equal-length 1-D datasets of mixed types.
x = rng.normal(size=rows)
y = rng.normal(size=rows).astype(np.float32)
n = rng.integers(-1000, 1000, rows).astype(np.int64)
with h5py.File(out / "columns.h5", "w") as f:
    g = f.create_group("events")
    g.create_dataset("x", data=x, chunks=(32,), compression="gzip")
    g.create_dataset("y", data=y, chunks=(32,), compression="gzip", shuffle=True)
    g.create_dataset("n", data=n, chunks=(32,), compression="gzip")
# h5py lists group members in name order: n, x, y.
record["columns.h5"] = dict(layout="columns", dataset="/events",
                            features=[["n", "int64"], ["x", "float64"], ["y", "float32"]],
                            values=as_f32(np.stack([n, x, y], axis=1)))

# LZF: readable by h5py, not by plain libhdf5.
with h5py.File(out / "lzf.h5", "w") as f:
    d = f.create_dataset("events", data=events, chunks=(64, 3), compression="lzf")
    d.attrs["features"] = ["pt", "eta", "phi"]

(out / "values.json").write_text(json.dumps(record, indent=1) + "\n")
print("wrote", sorted(p.name for p in out.iterdir()))

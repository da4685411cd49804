#!/usr/bin/env python3
"""Writes the parity fixture: a bundle exported by tools/export_torch.py from numpy weights, and the outputs
numpy computes for it on fixed inputs, which pairs' Swift forward pass must reproduce.

Run: python3 Tests/Fixtures/models/make_parity_fixture.py  (needs numpy, h5py). Outputs (committed):
  parity.h5    embedder 3→16 gelu→16 silu→4, head 5→16 tanh→16 softplus→5 (P = 2), LR estimator a 2→8 elu(1.5)→4,
               b 2→8 leaky_relu(0.2)→8 sigmoid→1; with input standardisation on every network
  parity.json  inputs and float64 numpy outputs computed from the stored Float32 weights
The bundle goes through the exporter's command-line path (.npz + metadata JSON, with --check).
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

here = pathlib.Path(__file__).resolve().parent
tools = here.parents[2] / "tools"
sys.path.insert(0, str(tools))
import export_torch  # noqa: E402

rng = np.random.default_rng(7)
shapes = {"embedder": ([3, 16, 16, 4], ["gelu", "silu", "identity"]),
          "head": ([5, 16, 16, 5], ["tanh", "softplus", "identity"]),
          "lr_estimator.a": ([2, 8, 4], ["elu:1.5", "identity"]),
          "lr_estimator.b": ([2, 8, 8, 1], ["leaky_relu:0.2", "sigmoid", "identity"])}
weights, activations = {}, {}
for net, (sizes, acts) in shapes.items():
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        weights[f"{net}.layers.{i}.weight"] = rng.normal(scale=1 / np.sqrt(n_in), size=(n_out, n_in))
        weights[f"{net}.layers.{i}.bias"] = rng.normal(scale=0.2, size=n_out)
    weights[f"{net}.input_mean"] = rng.normal(size=sizes[0])
    weights[f"{net}.input_std"] = rng.uniform(0.5, 2, size=sizes[0])
    activations[net] = acts
metadata = {"features": ["pt", "eta", "phi"],
            "parameters": [{"name": "mu", "role": "poi", "low": -3, "high": 3},
                           {"name": "sigma", "role": "nuisance", "low": 0.5, "high": 2}],
            "set_size_range": [1, 5000], "provenance": "parity fixture: random weights (numpy seed 7), not a model",
            "yield_model": {"intercept": 100, "coefficients": [10, -5]},
            "activations": activations}
with tempfile.TemporaryDirectory() as tmp:
    np.savez(f"{tmp}/w.npz", **weights)
    pathlib.Path(f"{tmp}/meta.json").write_text(json.dumps(metadata))
    subprocess.run([sys.executable, str(tools / "export_torch.py"), str(here / "parity.h5"), "--weights", f"{tmp}/w.npz",
                    "--metadata", f"{tmp}/meta.json", "--check"], check=True)

nets = export_torch.read_bundle_nets(here / "parity.h5")
record = {}
for name, net in nets.items():
    n_in = net["layers"][0][0].shape[1]
    x = rng.normal(size=(40, n_in)) * 1.5
    record[name] = {"inputs": x.astype(np.float32).ravel().tolist(),
                    "outputs": export_torch.forward(net, x.astype(np.float32)).ravel().tolist(),
                    "input_size": n_in}
(here / "parity.json").write_text(json.dumps(record) + "\n")
print("wrote parity.h5 and parity.json")

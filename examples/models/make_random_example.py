#!/usr/bin/env python3
"""Writes examples/models/gaussian-random.h5: a correctly shaped but UNTRAINED bundle for the built-in
`gaussian` simulator (x ~ N(mu, sigma^2)), so commands that need a model have one to run until the training
issue ships a trained bundle. Its posterior and likelihood numbers are meaningless.

Run: python3 examples/models/make_random_example.py  (numpy, h5py)
"""
import pathlib
import sys

import numpy as np

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[1] / "tools"))
from export_torch import export_bundle  # noqa: E402

rng = np.random.default_rng(1)


def random_net(sizes, hidden, output="identity"):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        limit = np.sqrt(6 / (n_in + n_out))
        layers.append((rng.uniform(-limit, limit, size=(n_out, n_in)), np.zeros(n_out),
                       output if i == len(sizes) - 2 else hidden))
    return {"layers": layers}


E = 8
export_bundle(here / "gaussian-random.h5",
              embedder=random_net([1, 32, 32, E], "relu"), embedder_input_mean=[0.0], embedder_input_std=[2.0],
              head=random_net([E + 1, 64, 64, 5], "silu"),
              lr_a=random_net([2, 32, E], "tanh"), lr_b=random_net([2, 32, 1], "tanh"),
              features=["x"],
              parameters=[{"name": "mu", "role": "poi", "low": -3, "high": 3},
                          {"name": "sigma", "role": "nuisance", "low": 0.5, "high": 2}],
              set_size_range=(1, 100000),
              provenance="UNTRAINED: random Glorot-uniform weights (numpy seed 1) from "
                         "examples/models/make_random_example.py; a shape-correct placeholder for the gaussian "
                         "simulator until a trained bundle replaces it. Its outputs mean nothing.")
print("wrote", here / "gaussian-random.h5")

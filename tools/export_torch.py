#!/usr/bin/env python3
"""Export PyTorch (or plain numpy) networks to a pairs model bundle (schemas/model-bundle.md).

Networks are the embedder t(x), the head h([mean t, log N]) and optionally the LR estimator's a(u) and b(u).
Each may be given as
  * a torch ``nn.Sequential`` of ``nn.Linear`` layers, each optionally followed by one activation module
    (ReLU, LeakyReLU, ELU, GELU (exact), SiLU, Tanh, Sigmoid, Softplus (beta 1, threshold 20), Identity), or
  * a numpy network: ``{"layers": [(weight [out, in], bias [out], "relu"), ...],
    "input_mean": [...], "input_std": [...]}`` (mean/std optional: no standardisation).
torch is imported only when a torch module is passed, so numpy-only use needs just numpy and h5py.

Command line (numpy weights):
  export_torch.py OUT.h5 --weights W.npz --metadata META.json [--check]
W.npz holds arrays under dotted keys ``<net>.layers.<i>.weight`` / ``.bias`` and optionally ``<net>.input_mean``
/ ``<net>.input_std`` for net in embedder, head, lr_estimator.a, lr_estimator.b; META.json holds
``features``, ``parameters`` ([{name, role, low, high}]), ``set_size_range`` ([min, max]), ``provenance``,
optionally ``yield_model`` ({intercept, coefficients}) and ``activations`` ({net: [name per layer]}, with
``leaky_relu:0.2`` / ``elu:1.5`` for parameters). Torch users call ``export_bundle`` from Python:

  from export_torch import export_bundle, check_bundle
  export_bundle("model.h5", embedder=emb, head=head, lr_a=a, lr_b=b, features=[...], parameters=[...],
                set_size_range=(1, 100000), provenance="...", embedder_input_mean=m, embedder_input_std=s)
  check_bundle("model.h5", {"embedder": emb, "head": head, ...})   # max relative difference

--check runs random inputs through the source networks and through the bundle as written (read back with
h5py, evaluated with numpy), prints the largest relative difference, and exits 1 if it exceeds 1e-5.
"""
import argparse
import json
import math
import sys

import h5py
import numpy as np

FORMAT = "pairs-model-bundle"
FORMAT_VERSION = 1
HEAD_OUTPUT = "gaussian_precision_cholesky"
LR_FORM = "exponential_family"
ACTIVATIONS = {"identity", "relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "softplus"}
NETS = ("embedder", "head", "lr_estimator.a", "lr_estimator.b")


# ---------------------------------------------------------------- network description

def parse_activation(text):
    """'relu' → ('relu', None); 'leaky_relu:0.2' → ('leaky_relu', 0.2)."""
    name, _, param = str(text).partition(":")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {text!r} (known: {sorted(ACTIVATIONS)})")
    return name, (float(param) if param else None)


def from_torch(module):
    """A torch nn.Sequential as the numpy network description."""
    import torch.nn as nn  # only needed for torch input

    mapping = {nn.ReLU: "relu", nn.GELU: "gelu", nn.SiLU: "silu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
               nn.Identity: "identity"}
    modules = list(module.children()) if isinstance(module, nn.Sequential) else [module]
    layers, i = [], 0
    while i < len(modules):
        linear = modules[i]
        if not isinstance(linear, nn.Linear):
            raise ValueError(f"expected nn.Linear at position {i}, found {type(linear).__name__}")
        activation = ("identity", None)
        if i + 1 < len(modules) and not isinstance(modules[i + 1], nn.Linear):
            act = modules[i + 1]
            if isinstance(act, nn.LeakyReLU):
                activation = ("leaky_relu", float(act.negative_slope))
            elif isinstance(act, nn.ELU):
                activation = ("elu", float(act.alpha))
            elif isinstance(act, nn.Softplus):
                if act.beta != 1 or act.threshold != 20:
                    raise ValueError("only Softplus(beta=1, threshold=20) is supported")
                activation = ("softplus", None)
            elif isinstance(act, nn.GELU) and getattr(act, "approximate", "none") != "none":
                raise ValueError("only the exact GELU (approximate='none') is supported")
            elif type(act) in mapping:
                activation = (mapping[type(act)], None)
            else:
                raise ValueError(f"unsupported module {type(act).__name__} after Linear {len(layers)}")
            i += 1
        weight = linear.weight.detach().cpu().double().numpy()
        bias = (linear.bias.detach().cpu().double().numpy() if linear.bias is not None
                else np.zeros(weight.shape[0]))
        layers.append((weight, bias, activation))
        i += 1
    return {"layers": layers}


def normalise(net, mean=None, std=None):
    """Any accepted network form → {'layers': [(W, b, (name, param))], 'input_mean', 'input_std'}."""
    if not isinstance(net, dict):
        net = from_torch(net)
    layers = []
    for weight, bias, activation in net["layers"]:
        if isinstance(activation, str):
            activation = parse_activation(activation)
        weight, bias = np.asarray(weight, dtype=np.float64), np.asarray(bias, dtype=np.float64)
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ValueError(f"layer {len(layers)}: weight {weight.shape} and bias {bias.shape} do not fit")
        if layers and layers[-1][0].shape[0] != weight.shape[1]:
            raise ValueError(f"layer {len(layers)} takes {weight.shape[1]} inputs, previous gives {layers[-1][0].shape[0]}")
        layers.append((weight, bias, activation))
    n = layers[0][0].shape[1]
    mean = np.asarray(net.get("input_mean", mean if mean is not None else np.zeros(n)), dtype=np.float64)
    std = np.asarray(net.get("input_std", std if std is not None else np.ones(n)), dtype=np.float64)
    if mean.shape != (n,) or std.shape != (n,) or np.any(std <= 0):
        raise ValueError("input_mean/input_std need one value per input and positive stds")
    return {"layers": layers, "input_mean": mean, "input_std": std}


# ---------------------------------------------------------------- numpy reference forward

def activate(name, param, z):
    if name == "identity":
        return z
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, (0.01 if param is None else param) * z)
    if name == "elu":
        return np.where(z > 0, z, (1.0 if param is None else param) * np.expm1(np.minimum(z, 0)))
    if name == "gelu":
        return 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    if name == "silu":
        return z / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "softplus":
        return np.where(z > 20, z, np.log1p(np.exp(np.minimum(z, 20))))
    raise ValueError(name)


def forward(net, x):
    """Float64 forward of a normalised network description (the semantics pairs implements)."""
    a = (np.asarray(x, dtype=np.float64) - net["input_mean"]) / net["input_std"]
    for weight, bias, (name, param) in net["layers"]:
        a = activate(name, param, a @ weight.T + bias)
    return a


# ---------------------------------------------------------------- writing and reading bundles

def _write_net(group, net):
    group.create_dataset("input_mean", data=net["input_mean"].astype("<f4"))
    group.create_dataset("input_std", data=net["input_std"].astype("<f4"))
    layers = group.create_group("layers")
    for i, (weight, bias, (name, param)) in enumerate(net["layers"]):
        g = layers.create_group(str(i))
        g.attrs["activation"] = name
        if param is not None:
            g.attrs["activation_parameter"] = np.float64(param)
        g.create_dataset("weight", data=weight.astype("<f4"))
        g.create_dataset("bias", data=bias.astype("<f4"))


def export_bundle(path, *, embedder, head, features, parameters, set_size_range, provenance, lr_a=None, lr_b=None,
                  yield_model=None, embedder_input_mean=None, embedder_input_std=None):
    """Writes a bundle. ``parameters`` is a list of {name, role ('poi'|'nuisance'), low, high}."""
    nets = {"embedder": normalise(embedder, embedder_input_mean, embedder_input_std), "head": normalise(head)}
    if (lr_a is None) != (lr_b is None):
        raise ValueError("the LR estimator needs both a and b")
    if lr_a is not None:
        nets["lr_estimator.a"], nets["lr_estimator.b"] = normalise(lr_a), normalise(lr_b)
    e = nets["embedder"]["layers"][-1][0].shape[0]
    p = len(parameters)
    checks = [(nets["embedder"]["layers"][0][0].shape[1] == len(features), "embedder inputs ≠ number of features"),
              (nets["head"]["layers"][0][0].shape[1] == e + 1, "head must take E + 1 inputs (mean t, log N)"),
              (nets["head"]["layers"][-1][0].shape[0] == p + p * (p + 1) // 2, "head must give P + P(P+1)/2 outputs")]
    if lr_a is not None:
        checks += [(nets["lr_estimator.a"]["layers"][0][0].shape[1] == p, "a must take P inputs"),
                   (nets["lr_estimator.a"]["layers"][-1][0].shape[0] == e, "a must give E outputs"),
                   (nets["lr_estimator.b"]["layers"][0][0].shape[1] == p, "b must take P inputs"),
                   (nets["lr_estimator.b"]["layers"][-1][0].shape[0] == 1, "b must give 1 output")]
    for ok, why in checks:
        if not ok:
            raise ValueError(why)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["features"] = list(features)
        f.attrs["parameters"] = [q["name"] for q in parameters]
        f.attrs["parameter_roles"] = [q["role"] for q in parameters]
        f.attrs["parameter_low"] = np.array([q["low"] for q in parameters], dtype=np.float64)
        f.attrs["parameter_high"] = np.array([q["high"] for q in parameters], dtype=np.float64)
        f.attrs["set_size_range"] = np.array(set_size_range, dtype=np.int64)
        f.attrs["head_output"] = HEAD_OUTPUT
        f.attrs["provenance"] = provenance
        if yield_model is not None:
            f.attrs["yield_intercept"] = np.array([yield_model["intercept"]], dtype=np.float64)
            f.attrs["yield_coefficients"] = np.array(yield_model["coefficients"], dtype=np.float64)
        _write_net(f.create_group("embedder"), nets["embedder"])
        _write_net(f.create_group("head"), nets["head"])
        if lr_a is not None:
            lr = f.create_group("lr_estimator")
            lr.attrs["form"] = LR_FORM
            _write_net(lr.create_group("a"), nets["lr_estimator.a"])
            _write_net(lr.create_group("b"), nets["lr_estimator.b"])
    return nets


def read_bundle_nets(path):
    """The networks of a bundle file, as normalised descriptions (Float32 weights widened to Float64)."""
    def read(group):
        layers = []
        for i in range(len(group["layers"])):
            g = group["layers"][str(i)]
            param = g.attrs.get("activation_parameter")
            param = None if param is None else float(np.atleast_1d(param)[0])
            name = np.atleast_1d(g.attrs["activation"])[0]  # scalar (h5py) or one-element array (pairs)
            name = name.decode() if isinstance(name, bytes) else str(name)
            layers.append((g["weight"][()].astype(np.float64), g["bias"][()].astype(np.float64),
                           (name, None if param is None else float(param))))
        return {"layers": layers, "input_mean": group["input_mean"][()].astype(np.float64),
                "input_std": group["input_std"][()].astype(np.float64)}
    with h5py.File(path, "r") as f:
        nets = {"embedder": read(f["embedder"]), "head": read(f["head"])}
        if "lr_estimator" in f:
            nets["lr_estimator.a"], nets["lr_estimator.b"] = read(f["lr_estimator/a"]), read(f["lr_estimator/b"])
    return nets


def _source_forward(net, x):
    if isinstance(net, dict):
        return forward(normalise(net), x)
    import torch
    with torch.no_grad():
        return net(torch.as_tensor(x, dtype=torch.float32)).double().numpy()


def check_bundle(path, sources, samples=64, seed=0, input_std=None):
    """Largest relative difference between source networks and the written bundle on random inputs.

    For torch sources the embedder's standardisation is not part of the module: pass ``input_std`` / use the
    numpy form. Differences are relative to the largest output magnitude of each network.
    """
    rng = np.random.default_rng(seed)
    written = read_bundle_nets(path)
    worst = 0.0
    for name, source in sources.items():
        if source is None:
            continue
        net = written[name]
        x = rng.normal(size=(samples, net["layers"][0][0].shape[1])) * net["input_std"] + net["input_mean"]
        got = forward(net, x)
        want = _source_forward(source, x) if isinstance(source, dict) else _source_forward(
            source, (x - net["input_mean"]) / net["input_std"])
        diff = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30)
        print(f"{name:16s} max relative difference {diff:.3e}")
        worst = max(worst, diff)
    return worst


# ---------------------------------------------------------------- command line

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--weights", required=True, help=".npz of dotted-key arrays")
    parser.add_argument("--metadata", required=True, help="JSON metadata (see the module docstring)")
    parser.add_argument("--check", action="store_true", help="compare source and bundle on random inputs")
    args = parser.parse_args(argv)
    meta = json.load(open(args.metadata))
    weights = np.load(args.weights)
    nets = {}
    for name in NETS:
        count = 0
        while f"{name}.layers.{count}.weight" in weights:
            count += 1
        if count == 0:
            continue
        acts = meta.get("activations", {}).get(name)
        if acts is None or len(acts) != count:
            raise SystemExit(f"metadata 'activations.{name}' must list {count} activation names")
        net = {"layers": [(weights[f"{name}.layers.{i}.weight"], weights[f"{name}.layers.{i}.bias"], acts[i])
                          for i in range(count)]}
        for key in ("input_mean", "input_std"):
            if f"{name}.{key}" in weights:
                net[key] = weights[f"{name}.{key}"]
        nets[name] = net
    known = {f"{n}.layers.{i}.{w}" for n in nets for i in range(len(nets[n]["layers"])) for w in ("weight", "bias")}
    known |= {f"{n}.{k}" for n in nets for k in ("input_mean", "input_std")}
    unknown = sorted(set(weights.files) - known)
    if unknown:
        raise SystemExit(f"unknown weight keys: {unknown}")
    export_bundle(args.out, embedder=nets["embedder"], head=nets["head"], lr_a=nets.get("lr_estimator.a"),
                  lr_b=nets.get("lr_estimator.b"), features=meta["features"], parameters=meta["parameters"],
                  set_size_range=meta["set_size_range"], provenance=meta["provenance"],
                  yield_model=meta.get("yield_model"))
    print(f"wrote {args.out}")
    if args.check:
        worst = check_bundle(args.out, nets)
        if worst > 1e-5:
            print(f"FAILED: {worst:.3e} > 1e-5", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes vectors.json: value vectors with their exact sums as references for pairs' ExactSum.

Each entry: name, kind (float32 | float64), values (IEEE bit patterns as hex), double (math.fsum, the correctly
rounded double of the exact sum, from fractions.Fraction and cross-checked with math.fsum where fsum does not
overflow) and float (the exact sum correctly rounded to float32, computed with
fractions.Fraction — no double rounding). Run: python3 Tests/Fixtures/exactsum/make_vectors.py
"""
import json
import math
import pathlib
import random
import struct
from fractions import Fraction


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def round_to_float32(q):
    """Nearest float32 to the rational q, ties to even; ±inf beyond the range."""
    if q == 0:
        return 0.0
    sign = -1 if q < 0 else 1
    q = abs(q)
    e = math.floor(math.log2(q.numerator) - math.log2(q.denominator))
    while Fraction(2) ** e > q:
        e -= 1
    while Fraction(2) ** (e + 1) <= q:
        e += 1
    if e > 127:
        return sign * math.inf
    quantum = Fraction(2) ** (max(e, -126) - 23)
    n = q / quantum
    k = math.floor(n)
    rest = n - k
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and k % 2 == 1):
        k += 1
    value = k * quantum
    if value >= Fraction(2) ** 128 - Fraction(2) ** 104 + Fraction(2) ** 103:  # rounds beyond FLT_MAX
        return sign * math.inf
    result = sign * float(value)
    if abs(result) > 3.4028234663852886e38:
        return sign * math.inf
    return result


rng = random.Random(20261204)
vectors = []


def add(name, kind, values):
    if kind == "float32":
        values = [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]
        bits = [f"{f32_bits(v):08x}" for v in values]
    else:
        bits = [f"{f64_bits(v):016x}" for v in values]
    exact = sum((Fraction(v) for v in values), Fraction(0))
    try:
        d = float(exact)  # int/int true division: correctly rounded
    except OverflowError:
        d = math.copysign(math.inf, exact)
    try:
        assert math.fsum(values) == d, name
    except OverflowError:
        pass  # fsum's intermediate overflow; the Fraction reference stands
    vectors.append({"name": name, "kind": kind, "values": bits, "double": f"{f64_bits(d):016x}",
                    "float": f"{f32_bits(round_to_float32(exact)):08x}"})


add("cancellation", "float32", [1e30, 1.0, -1e30])
add("cancellation64", "float64", [1e300, 1.0, -1e300, 1e-300])
add("subnormals32", "float32", [1e-45] * 1000 + [-1e-45] * 3 + [1.17549435e-38])
add("subnormals64", "float64", [5e-324] * 777 + [2.2250738585072014e-308, -5e-324])
add("huge64", "float64", [1.7976931348623157e308] * 3 + [-1.7976931348623157e308] * 3 + [1.0])
add("mixed32", "float32", [rng.choice([1, -1]) * rng.random() * 10 ** rng.randint(-40, 38) for _ in range(5000)])
add("mixed64", "float64", [rng.choice([1, -1]) * rng.random() * 10 ** rng.randint(-300, 300) for _ in range(5000)])
add("normal32", "float32", [rng.gauss(0.5, 2) for _ in range(20000)])
add("ties32", "float32", [16777216.0, 1.0, 1.0, 1.0])
pathlib.Path(__file__).with_name("vectors.json").write_text(json.dumps(vectors) + "\n")
print("wrote", len(vectors), "vectors")

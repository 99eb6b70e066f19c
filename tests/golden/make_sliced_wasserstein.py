#!/usr/bin/python3
"""Golden values for src/methods/sliced_wasserstein.ts, computed with POT (Python Optimal Transport).

Run with Debian's interpreter, which has POT 0.8.2:

    /usr/bin/python3 tests/golden/make_sliced_wasserstein.py

It writes tests/golden/sliced_wasserstein.json. Inputs are drawn with numpy, rounded to float32
(the values invbench sees), and POT computes in float64 on those exact values. The file is\nlaid out as `deno fmt` would lay it out.

POT 0.8.2 conventions (ot/sliced.py, ot/lp/solver_1d.py), matched by invbench:
  - sliced_wasserstein_distance returns (sum over projections of W_p^p / n_projections)^(1/p),
    where W_p^p is wasserstein_1d's integral of |F_u^-1(q) - F_v^-1(q)|^p over q in [0, 1] with
    uniform weights 1/n and 1/m (the exact 1-D optimal transport cost, also for n != m);
  - `projections` is a (d, P) matrix whose columns are the directions;
  - it divides by the `n_projections` argument (default 50) even when `projections` is given, so
    n_projections = P must be passed explicitly, or the result is off by (P / 50)^(1/p). This
    script checks that quirk so a later POT that fixes it is noticed.
"""
import json
import os
import re

import numpy as np
import ot

# (name, n, m, d, P, p)
CASES = [
    ("tiny_p2", 16, 16, 3, 10, 2.0),
    ("p1", 48, 48, 6, 24, 1.0),
    ("p2", 48, 48, 6, 24, 2.0),
    ("p1_5", 48, 48, 6, 24, 1.5),
    ("p3", 40, 40, 5, 20, 3.0),
    ("unequal_30_20_p2", 30, 20, 5, 20, 2.0),
    ("unequal_24_36_p1", 24, 36, 4, 16, 1.0),
    ("shifted_d16_p2", 48, 48, 16, 32, 2.0),
]

def f32(a):
    return np.asarray(a, dtype=np.float32)


class F32List:
    """A float32 array that json output writes with the shortest decimals that round-trip to it."""

    def __init__(self, a):
        self.text = "[" + ",".join(repr(float(v)) if v == 0 else str(v) for v in f32(a).ravel()) + "]"


def dumps(obj):
    """json.dumps (indent 2), with each F32List spliced in as its short float32 decimals."""
    lists = []

    def default(o):
        if isinstance(o, F32List):
            lists.append(o.text)
            return f"@F32LIST{len(lists) - 1}@"
        raise TypeError(type(o))

    text = json.dumps(obj, indent=2, default=default)

    def splice(mt):
        indent = mt.group(1)
        inner = (",\n" + indent + "  ").join(lists[int(mt.group(2))][1:-1].split(","))
        return f"[\n{indent}  {inner}\n{indent}]"

    # Laid out as `deno fmt` lays out long arrays (one element per line), so the repository's
    # `deno fmt --check` passes on the generated file.
    return re.sub(r'(?m)^( *)(?:"\w+": )?"@F32LIST(\d+)@"', lambda mt: mt.group(0).split('"@F32LIST')[0] + splice(mt), text)


def main():
    rng = np.random.default_rng(20240531)
    cases = []
    for name, n, m, d, P, p in CASES:
        x = f32(rng.standard_normal((n, d)))
        y = f32(rng.standard_normal((m, d)) * 1.3 + 0.25)
        if name.startswith("shifted"):
            y = f32(y + np.linspace(-1.0, 2.0, d, dtype=np.float32))
        g = rng.standard_normal((P, d))
        dirs = f32(g / np.linalg.norm(g, axis=1, keepdims=True))  # rows are unit directions
        x64, y64, dirs64 = (np.asarray(a, dtype=np.float64) for a in (x, y, dirs))
        value = float(ot.sliced_wasserstein_distance(x64, y64, projections=dirs64.T, n_projections=P, p=p))

        # Independent check of the convention: sorted-projection formula (n = m) or POT's own
        # wasserstein_1d per projection.
        px, py = x64 @ dirs64.T, y64 @ dirs64.T
        if n == m:
            manual = np.mean(np.abs(np.sort(px, 0) - np.sort(py, 0)) ** p) ** (1.0 / p)
        else:
            manual = np.mean([ot.wasserstein_1d(px[:, k], py[:, k], p=p) for k in range(P)]) ** (1.0 / p)
        assert abs(manual - value) <= 1e-12 * max(1.0, abs(value)), (name, manual, value)
        if P != 50:
            quirk = float(ot.sliced_wasserstein_distance(x64, y64, projections=dirs64.T, p=p))
            assert abs(quirk - value * (P / 50) ** (1.0 / p)) <= 1e-9 * value, (
                "POT no longer divides by n_projections when projections are given; revisit", name)

        cases.append({
            "name": name, "n": n, "m": m, "d": d, "P": P, "p": p,
            "x": F32List(x),
            "y": F32List(y),
            "directions": F32List(dirs),
            "sw": value,
        })

    out = {
        "generator": "tests/golden/make_sliced_wasserstein.py",
        "library": f"POT {ot.__version__}, numpy {np.__version__}",
        "call": "ot.sliced_wasserstein_distance(x, y, projections=directions.T, n_projections=P, p=p)",
        "layout": "x [n, d], y [m, d], directions [P, d] (unit rows), all row-major float32 values",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sliced_wasserstein.json")
    with open(path, "w") as fh:
        fh.write(dumps(out) + "\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(cases)} cases)")


if __name__ == "__main__":
    main()

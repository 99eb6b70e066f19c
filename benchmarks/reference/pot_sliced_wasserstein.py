#!/usr/bin/env python3
"""POT reference for benchmarks/sliced_wasserstein_bench.ts: the forward sliced Wasserstein
distance (p = 2) between two n x d float32 clouds along P given unit directions, with
`ot.sliced_wasserstein_distance` (numpy backend, the projections passed in, as invbench's
`slicedWasserstein` documents). Prints one JSON line with the median in milliseconds.

    python3 benchmarks/reference/pot_sliced_wasserstein.py --n 1024 --d 384 --directions 1000
"""
import argparse
import json
import statistics
import time

import numpy as np
import ot

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=1024)
parser.add_argument("--d", type=int, default=384)
parser.add_argument("--directions", type=int, default=1000)
parser.add_argument("--iters", type=int, default=20)
parser.add_argument("--warmup", type=int, default=3)
args = parser.parse_args()

rng = np.random.default_rng(0)
x = rng.standard_normal((args.n, args.d)).astype(np.float32)
y = rng.standard_normal((args.n, args.d)).astype(np.float32)
dirs = rng.standard_normal((args.d, args.directions)).astype(np.float32)
dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)


def run():
    return ot.sliced_wasserstein_distance(x, y, n_projections=args.directions, p=2, projections=dirs)


for _ in range(args.warmup):
    run()
times = []
for _ in range(args.iters):
    t0 = time.perf_counter()
    run()
    times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(json.dumps({
    "pot": ot.__version__,
    "median_ms": statistics.median(times),
    "mean_ms": statistics.mean(times),
    "p25_ms": times[len(times) // 4],
    "p75_ms": times[(3 * len(times)) // 4],
    "min_ms": times[0],
}))

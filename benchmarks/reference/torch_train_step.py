#!/usr/bin/env python3
"""Independent PyTorch CPU reference for benchmarks/train_step_bench.ts.

One adapter training step: E = Linear(d, h) -> ReLU -> Linear(h, d), a batch of 256 clean +
3*256 augmented rows, one of the adapter losses of docs/protocol.md written plainly in PyTorch
(mawa, waco with P directions, simclr with tau = 0.5, hsic with the median heuristic), backward,
AdamW (lr 1e-3, weight decay 1e-4). Prints one JSON line: the median and quartiles in
milliseconds. Not needed by invbench itself: it exists to compare against, in the same sitting
(`deno task bench:compare` runs it for every bench it has a twin for).

    python3 benchmarks/reference/torch_train_step.py --loss waco --d 384 --h 4096 --threads 2
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import time

parser = argparse.ArgumentParser()
parser.add_argument("--loss", choices=["mawa", "waco", "simclr", "hsic"], default="mawa")
parser.add_argument("--d", type=int, default=384)
parser.add_argument("--h", type=int, default=4096)
parser.add_argument("--directions", type=int, default=1000, help="WaCo's P per sliced distance")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--iters", type=int, default=20)
parser.add_argument("--warmup", type=int, default=3)
parser.add_argument("--matmul", action="store_true", help="also time the 1024x384x4096 GEMM")
args = parser.parse_args()
# torch.set_num_threads does not reach the OpenBLAS that Debian's PyTorch multiplies with: without
# this, its GEMMs ran on every core whatever --threads said. OpenBLAS reads it when it is loaded.
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)

import torch  # noqa: E402 (after the thread count is in the environment)

torch.set_num_threads(args.threads)


def blas_threads():
    """Threads of the OpenBLAS this process multiplies with, or None where it uses another BLAS."""
    with open("/proc/self/maps") as maps:
        found = re.search(r"/\S*openblas\S*", maps.read())
    return ctypes.CDLL(found.group(0)).openblas_get_num_threads() if found else None


torch.manual_seed(0)

d, h, n, s = args.d, args.h, 256, 3
m = (s + 1) * n
adapter = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, d))
opt = torch.optim.AdamW(adapter.parameters(), lr=1e-3, weight_decay=1e-4)
x = torch.randn(m, d)
anchors = torch.randn(n, d).repeat(s + 1, 1)


def sw(a, b, dirs):
    """Sliced Wasserstein (p = 2) along the unit columns of dirs [dim, P]."""
    pa = torch.sort((a @ dirs).T, dim=1).values
    pb = torch.sort((b @ dirs).T, dim=1).values
    return ((pa - pb) ** 2).mean().sqrt()


def unit(dim):
    g = torch.randn(dim, args.directions)
    return g / g.norm(dim=0, keepdim=True)


def waco(y, xa):
    perm = lambda: torch.randperm(m)
    dep = sw(torch.cat([xa, y], 1), torch.cat([xa[perm()], y[perm()]], 1), unit(2 * d))
    dep_x = sw(torch.cat([xa, xa], 1), torch.cat([xa, xa[perm()]], 1), unit(2 * d))
    dep_y = sw(torch.cat([y, y], 1), torch.cat([y, y[perm()]], 1), unit(2 * d))
    return -dep / torch.sqrt(dep_x * dep_y + 1e-10)


def simclr(y, tau=0.5):
    z = torch.nn.functional.normalize(y, dim=1)
    logits = z @ z.T / tau
    logits = logits - 1e9 * torch.eye(m)
    pos = torch.stack([(torch.arange(m) + k * n) % m for k in range(1, s + 1)], 1)
    return torch.logsumexp(logits, 1).mean() - logits.gather(1, pos).sum() / (m * s)


def gaussian(z):
    d2 = torch.cdist(z, z) ** 2
    with torch.no_grad():
        iu = torch.triu_indices(m, m, 1)
        v = torch.sort(d2[iu[0], iu[1]]).values
        q = v.numel()
        sigma = (v[(q - 1) // 2].clamp(min=0).sqrt() + v[q // 2].clamp(min=0).sqrt()) / 2
    k = torch.exp(-d2 / (2 * sigma**2 + 1e-12))
    return k - k.mean(0, keepdim=True) - k.mean(1, keepdim=True) + k.mean()


def hsic(y, xa):
    return -(gaussian(xa) * gaussian(y)).sum() / ((m - 1) ** 2)


def loss_of(y):
    if args.loss == "mawa":
        return ((y - anchors) ** 2).sum(dim=1).mean()
    if args.loss == "waco":
        return waco(y, anchors)
    if args.loss == "simclr":
        return simclr(y)
    return hsic(y, anchors)


def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_of(adapter(x))
    loss.backward()
    opt.step()
    return loss


for _ in range(args.warmup):
    step()
times = []
for _ in range(args.iters):
    t0 = time.perf_counter()
    step()
    times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(json.dumps({
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "blas_threads": blas_threads(),
    "loss": args.loss,
    "d": d,
    "h": h,
    "median_ms": statistics.median(times),
    "mean_ms": statistics.mean(times),
    "p25_ms": times[len(times) // 4],
    "p75_ms": times[(3 * len(times)) // 4],
    "min_ms": times[0],
}))

if args.matmul:
    a, b = torch.randn(1024, 384), torch.randn(384, 4096)
    for _ in range(3):
        a @ b
    mm = []
    for _ in range(20):
        t0 = time.perf_counter()
        a @ b
        mm.append(time.perf_counter() - t0)
    print(json.dumps({"matmul_1024x384x4096_gflops": 2 * 1024 * 384 * 4096 / statistics.median(mm) / 1e9}))

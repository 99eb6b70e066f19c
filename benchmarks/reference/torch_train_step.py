#!/usr/bin/env python3
"""Independent PyTorch CPU reference for benchmarks/train_step_bench.ts.

One adapter training step at the paper's shapes: E = Linear(384, 4096) -> ReLU -> Linear(4096, 384),
a batch of 256 clean + 3*256 augmented rows, the MaWa loss (mean over rows of the squared distance to
the clean anchor), backward, AdamW (lr 1e-3, weight decay 1e-4). Prints the median and other
quantiles in milliseconds as JSON. Not needed by invbench itself: it exists to compare against.

    python3 benchmarks/reference/torch_train_step.py --threads 2 --iters 30
"""
import argparse
import json
import statistics
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--iters", type=int, default=30)
parser.add_argument("--warmup", type=int, default=5)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

d, h, n, s = 384, 4096, 256, 3
adapter = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, d))
opt = torch.optim.AdamW(adapter.parameters(), lr=1e-3, weight_decay=1e-4)
x = torch.randn((s + 1) * n, d)
anchors = torch.randn(n, d).repeat(s + 1, 1)


def step():
    opt.zero_grad(set_to_none=True)
    loss = ((adapter(x) - anchors) ** 2).sum(dim=1).mean()
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
    "median_ms": statistics.median(times),
    "p25_ms": times[len(times) // 4],
    "p75_ms": times[(3 * len(times)) // 4],
    "min_ms": times[0],
}))

# Matmul at the bench shape, for the GFLOP/s comparison.
a, b = torch.randn(1024, 384), torch.randn(384, 4096)
for _ in range(3):
    a @ b
mm = []
for _ in range(20):
    t0 = time.perf_counter()
    a @ b
    mm.append(time.perf_counter() - t0)
print(json.dumps({"matmul_1024x384x4096_gflops": 2 * 1024 * 384 * 4096 / statistics.median(mm) / 1e9}))

/**
 * A method file's cost against the built-in loss it re-implements: training the adapter of one
 * default-matrix cell (benchmarks/default.yaml: d = 128 fixture-CNN features, 5000 train inputs,
 * E = (128, 1024, 128), 10 epochs of batches of 256 with s = 3 views from a pool of 8) with the
 * built-in `mawa` and with examples/methods/mawa.ts, on the CPU backend. The file's run includes
 * all of its sandbox work per cell: loading the file in the sandbox process, and tracing its
 * graphs (a fresh UserLoss each time, so nothing is cached across iterations). The acceptance
 * bound is a file cell ≤ 1.1× the built-in's time; `deno bench` prints the ratio.
 *
 *   deno bench -A benchmarks/method_file_bench.ts
 */
import { Adapter, CounterRng, CpuBackend, UserLoss } from "../mod.ts";

const D = 128, N = 5000, POOL = 8;
const backend = new CpuBackend();
const rng = new CounterRng(0, "bench", "method-file");
const clean = rng.normals(N * D);
const pool = Array.from({ length: POOL }, (_, v) => new CounterRng(0, "bench", "view", v).normals(N * D));
const FILE = new URL("../examples/methods/mawa.ts", import.meta.url);
const source = await Deno.readTextFile(FILE);

const options = {
  hidden: 1024,
  outDim: D,
  epochs: 10,
  batch: 256,
  views: 3,
  lr: 1e-3,
  lrMin: 4e-4,
  weightDecay: 1e-4,
  seed: 0,
  backend,
};

Deno.bench("adapter cell, built-in mawa", { group: "cell", baseline: true, n: 3, warmup: 1 }, async () => {
  (await Adapter.train(clean, pool, D, { ...options, loss: "mawa" })).dispose();
});

Deno.bench("adapter cell, examples/methods/mawa.ts", { group: "cell", n: 3, warmup: 1 }, async () => {
  const loss = await UserLoss.load(FILE.pathname, "./mawa.ts", source);
  (await Adapter.train(clean, pool, D, { ...options, loss })).dispose();
});

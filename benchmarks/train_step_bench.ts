/**
 * The tensor core at the paper's shapes and at the default matrix's, on every available backend:
 *   - one adapter training step, E = (d, h, d) MLP with ReLU, 256 clean + 3·256 augmented rows,
 *     forward, loss, backward, AdamW, for each adapter loss of the paper: MaWa, WaCo (1000
 *     directions at the paper's shapes, 250 at the default matrix's, as benchmarks/default.yaml),
 *     SimCLR (τ = 0.5) and HSIC (median heuristic); at d = 384, h = 4096 and d = 128, h = 1024;
 *   - matmul 1024×384 · 384×4096 (the paper step's GEMM shape);
 *   - row sort of 1000×1024 (sliced Wasserstein: 1000 directions × 1024 projected rows);
 *   - HSIC's Gaussian kernel of 1024 points' distances to each other.
 * Each step has a PyTorch twin, benchmarks/reference/torch_train_step.py; `deno task bench:compare`
 * runs both in one sitting and prints the ratio.
 *
 *   deno bench -A benchmarks/train_step_bench.ts            (INVBENCH_BENCH_WEBGPU=0 skips webgpu)
 *
 * INVBENCH_BENCH_ELEMENTWISE_THREADS=1 runs the cpu backend's element-wise kernels on one thread
 * instead of splitting them over two (src/tensor/backends/cpu_threads.ts): the same values, to
 * measure what the split buys.
 */
import {
  AdamW,
  CounterRng,
  lossFor,
  matmul,
  Mlp,
  pairwiseSqDist,
  sortRows,
  type Tensor,
  tensor,
  tidy,
  trainStep,
} from "../mod.ts";
import { benchBackends } from "./bench_backends.ts";
import { gaussianOfSqDist } from "../src/tensor/fused_ops.ts";
import { setElementwiseThreads } from "../src/tensor/backends/cpu_threads.ts";
import { STEP_LOSSES, STEP_SHAPES, stepBenchName } from "./twins.ts";

const N = 256, S = 3, ROWS = (S + 1) * N;

const elementwiseThreads = Deno.env.get("INVBENCH_BENCH_ELEMENTWISE_THREADS");
if (elementwiseThreads) setElementwiseThreads(Number(elementwiseThreads));

async function finish(t: Tensor): Promise<void> {
  await t.toArray();
  t.dispose();
}

for (const backend of await benchBackends()) {
  const name = backend.name;
  // llvmpipe runs a paper-shape step in seconds; a few iterations give a stable median.
  const iters = name === "cpu" ? {} : { n: 3, warmup: 1 };
  const rng = (label: string) => new CounterRng(0, "bench", label);

  for (const { d, h, directions } of STEP_SHAPES) {
    const x = tensor(rng("x").normals(ROWS * d), [ROWS, d], { backend });
    const anchors = tensor(rng("anchors").normals(ROWS * d), [ROWS, d], { backend });
    for (const [label, lossName] of STEP_LOSSES) {
      const loss = lossFor(lossName, lossName === "waco" ? { directions } : {});
      const adapter = new Mlp([d, h, d], 0, "adapter", backend);
      const opt = new AdamW(adapter.parameters, { lr: 1e-3, weightDecay: 1e-4 });
      let step = 0;
      Deno.bench({
        name: stepBenchName(name, d, h, label),
        group: `train step d=${d} h=${h} (${label})`,
        baseline: name === "cpu",
        ...iters,
        async fn() {
          const s = step++;
          await finish(
            trainStep(opt, () => loss({ y: adapter.forward(x), anchors, views: S + 1, seed: 0, step: s })),
          );
        },
      });
    }
  }

  const a = tensor(rng("a").normals(1024 * 384), [1024, 384], { backend });
  const b = tensor(rng("b").normals(384 * 4096), [384, 4096], { backend });
  Deno.bench({
    name: `matmul ${name} 1024x384x4096`,
    group: "matmul",
    baseline: name === "cpu",
    ...iters,
    async fn() {
      await finish(matmul(a, b));
    },
  });

  // HSIC's adapter-side kernel: a point set's distances to itself (symmetric).
  const z = tensor(rng("z").normals(1024 * 128), [1024, 128], { backend });
  const d2 = pairwiseSqDist(z, z), t = tensor([300], [1, 1], { backend });
  Deno.bench({
    name: `gaussian kernel ${name} 1024x1024`,
    group: "gaussian kernel",
    baseline: name === "cpu",
    ...iters,
    async fn() {
      await finish(gaussianOfSqDist(d2, t));
    },
  });

  const p = tensor(rng("p").normals(1000 * 1024), [1000, 1024], { backend });
  Deno.bench({
    name: `sortRows ${name} 1000x1024`,
    group: "sort",
    baseline: name === "cpu",
    ...iters,
    async fn() {
      const { values, indices } = tidy(() => sortRows(p));
      await finish(values);
      indices.dispose();
    },
  });
}

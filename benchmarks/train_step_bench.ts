/**
 * The tensor core at the paper's shapes, on every available backend:
 *   - one adapter training step: E = (384, 4096, 384) MLP, 256 clean + 3·256 augmented rows,
 *     forward, MaWa loss, backward, AdamW;
 *   - matmul 1024×384 · 384×4096 (the step's GEMM shape);
 *   - row sort of 1000×1024 (sliced Wasserstein: 1000 directions × 1024 projected rows).
 * Compare the CPU step with benchmarks/reference/torch_train_step.py in the same sitting.
 *
 *   deno bench -A benchmarks/train_step_bench.ts            (INVBENCH_BENCH_WEBGPU=0 skips webgpu)
 */
import {
  AdamW,
  type Backend,
  CounterRng,
  CpuBackend,
  createWebGpuBackend,
  matmul,
  mawaLoss,
  Mlp,
  sortRows,
  type Tensor,
  tensor,
  tidy,
  trainStep,
} from "../mod.ts";

const D = 384, H = 4096, N = 256, S = 3, ROWS = (S + 1) * N;

async function backends(): Promise<Backend[]> {
  const list: Backend[] = [new CpuBackend()];
  if (Deno.env.get("INVBENCH_BENCH_WEBGPU") !== "0") {
    const adapter = await navigator.gpu?.requestAdapter();
    if (adapter) list.push(await createWebGpuBackend(adapter));
  }
  return list;
}

async function finish(t: Tensor): Promise<void> {
  await t.toArray();
  t.dispose();
}

for (const backend of await backends()) {
  const name = backend.name;
  // llvmpipe runs a paper-shape step in seconds; a few iterations give a stable median.
  const iters = name === "cpu" ? {} : { n: 3, warmup: 1 };
  const rng = (label: string) => new CounterRng(0, "bench", label);

  const adapter = new Mlp([D, H, D], 0, "adapter", backend);
  const opt = new AdamW(adapter.parameters, { lr: 1e-3, weightDecay: 1e-4 });
  const x = tensor(rng("x").normals(ROWS * D), [ROWS, D], { backend });
  const anchors = tensor(rng("anchors").normals(ROWS * D), [ROWS, D], { backend });
  Deno.bench({
    name: `train step ${name} d=384 h=4096 rows=256+3x256 (MaWa, AdamW)`,
    group: "train step",
    baseline: name === "cpu",
    ...iters,
    async fn() {
      await finish(trainStep(opt, () => mawaLoss(adapter.forward(x), anchors)));
    },
  });

  const a = tensor(rng("a").normals(1024 * D), [1024, D], { backend });
  const b = tensor(rng("b").normals(D * H), [D, H], { backend });
  Deno.bench({
    name: `matmul ${name} 1024x384x4096`,
    group: "matmul",
    baseline: name === "cpu",
    ...iters,
    async fn() {
      await finish(matmul(a, b));
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

/**
 * The CPU backend's kernels split over two threads (src/tensor/backends/cpu_threads.ts) give the
 * bits they give on one: adapter training steps of every paper loss, at shapes large enough to
 * split, leave the same parameters and losses on one and two threads; and a process whose
 * kernels used the helper thread still exits by itself.
 */
import assert from "node:assert/strict";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";
import {
  elementwiseThreads,
  forgetHelperBuffers,
  helperHeld,
  helperJobs,
  setElementwiseThreads,
} from "../src/tensor/backends/cpu_threads.ts";
import { HELD_BYTES } from "../src/tensor/backends/cpu_helper_protocol.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { AdamW, lossFor, Mlp, tensor, trainStep } from "../mod.ts";

const N = 256, VIEWS = 4, ROWS = N * VIEWS, D = 64, H = 2048;

/** Losses and parameter bits after three steps of `loss` on a fresh backend with `threads` threads. */
async function train(loss: string, threads: number): Promise<{ losses: number[]; params: Int32Array[] }> {
  setElementwiseThreads(threads);
  const backend = new CpuBackend();
  const rng = (label: string) => new CounterRng(3, "cpu threads", label);
  const x = tensor(rng("x").normals(ROWS * D), [ROWS, D], { backend });
  const anchors = tensor(rng("anchors").normals(ROWS * D), [ROWS, D], { backend });
  const fn = lossFor(loss, loss === "waco" ? { directions: 300 } : {});
  const adapter = new Mlp([D, H, D], 0, "adapter", backend);
  const opt = new AdamW(adapter.parameters, { lr: 1e-3, weightDecay: 1e-4 });
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    const l = trainStep(opt, () => fn({ y: adapter.forward(x), anchors, views: VIEWS, seed: 0, step }));
    losses.push((await l.toArray())[0]);
    l.dispose();
  }
  const params = await Promise.all(
    adapter.parameters.map(async (p) => new Int32Array((await p.toArray()).buffer)),
  );
  return { losses, params };
}

/** The kernels each loss's step splits besides every step's AdamW and hidden-layer ReLU passes. */
const SPLIT_BY_LOSS: Record<string, string[]> = {
  mawa: ["sumColumns"],
  waco: ["sortRows"],
  simclr: ["addDiagonal", "logsumexp", "logsumexpGrad", "sumRows"],
  hsic: [
    "sqDist",
    "gaussianExpUpper",
    "gaussianGrad",
    "doubleCenterRows",
    "doubleCenterGradRows",
    "rowProductSums",
  ],
};

for (const [loss, kernels] of Object.entries(SPLIT_BY_LOSS)) {
  Deno.test(`cpu threads: ${loss} steps give the same bits on one and two threads`, async () => {
    const before = new Map(helperJobs);
    const two = await train(loss, 2);
    assert.equal(elementwiseThreads(), 2, "the helper thread started");
    const used = [...helperJobs].filter(([k, n]) => n > (before.get(k) ?? 0)).map(([k]) => k);
    const one = await train(loss, 1);
    setElementwiseThreads(2);
    // Every step splits its AdamW update and its hidden layer's ReLU passes, and its loss's own.
    for (const k of ["adamw", "biasRelu", "reluGradColumnSums", ...kernels]) {
      assert.ok(used.includes(k as never), `${k} split`);
    }
    assert.deepEqual(
      two.losses.map((v) => Object.is(v, v) && v),
      one.losses.map((v) => Object.is(v, v) && v),
    );
    assert.equal(two.params.length, one.params.length);
    for (let i = 0; i < one.params.length; i++) {
      assert.deepEqual(two.params[i], one.params[i], `parameter ${i}`);
    }
  });
}

Deno.test("cpu threads: a process whose kernels used the helper thread exits by itself", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/split.ts`;
    const src = (p: string) => new URL(`../src/tensor/backends/${p}`, import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { CpuBackend } from "${src("cpu.ts")}";
import { helperJobs } from "${src("cpu_threads.ts")}";
const b = new CpuBackend();
const length = 1 << 18;
b.unary("exp", b.upload(new Float32Array(length)), length);
if (helperJobs.get("unary") !== 1) Deno.exit(3);`,
    );
    const config = new URL("../deno.json", import.meta.url).pathname;
    // A helper keeping the process alive shows as a kill at the deadline, not as a slow exit.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, script],
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cpu threads: the helper holds at most HELD_BYTES of buffers, the ones the caller counts", () => {
  setElementwiseThreads(2);
  // No pool: every output is a new buffer, dropped here as soon as the next op runs.
  const backend = new CpuBackend({ poolBytes: 0 });
  const length = 1 << 22, x = backend.upload(new Float32Array(length));
  for (let i = 0; i * length * 4 < 2 * HELD_BYTES; i++) backend.dispose(backend.unary("neg", x, length));
  const held = helperHeld()!;
  assert.equal(held.helper, held.caller, "both threads count the same buffers");
  assert.ok(held.bytes <= HELD_BYTES, `${held.bytes} bytes held`);
  assert.ok(held.bytes >= HELD_BYTES - 2 * length * 4, "the helper keeps what fits");
  // After a phase, the helper keeps only what the next job sends it again: x and one output.
  forgetHelperBuffers();
  backend.dispose(backend.unary("neg", x, length));
  assert.deepEqual(helperHeld(), { caller: 2, helper: 2, bytes: 2 * length * 4 });
});

/**
 * Reproducibility: a full adapter training step on the CPU backend is bit-identical across runs
 * from the same seed, and the counter-based RNG matches the Random123 known-answer vectors, does
 * not depend on call order, and draws normals with the right moments.
 */
import { AdamW } from "../src/tensor/optim.ts";
import { tensor } from "../src/tensor/ops.ts";
import type { Backend } from "../src/tensor/backend.ts";
import { Mlp } from "../src/nn/mlp.ts";
import { mawaLoss } from "../src/methods/losses/mawa.ts";
import { trainStep } from "../src/nn/train_step.ts";
import { CounterRng, philox4x32 } from "../src/rng/philox.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";

const hex = (a: ArrayLike<number>) => Array.from(a, (v) => (v >>> 0).toString(16).padStart(8, "0")).join(" ");

/** Trains the adapter [32, 64, 32] with MaWa for `steps` steps from `seed`; returns params and losses as bits. */
async function train(
  backend: Backend,
  seed: number,
  steps: number,
): Promise<{ params: Uint32Array[]; losses: Uint32Array }> {
  const rows = 4 * 16; // 16 clean + 3·16 augmented rows
  const x = tensor(new CounterRng(seed, "data", "x").normals(rows * 32), [rows, 32], { backend });
  const anchors = tensor(new CounterRng(seed, "data", "anchors").normals(rows * 32), [rows, 32], { backend });
  const adapter = new Mlp([32, 64, 32], seed, "adapter", backend);
  const opt = new AdamW(adapter.parameters, { lr: 1e-3, weightDecay: 1e-4 });
  const losses = new Float32Array(steps);
  for (let s = 0; s < steps; s++) {
    const loss = trainStep(opt, () => mawaLoss(adapter.forward(x), anchors));
    losses[s] = await loss.item();
    loss.dispose();
  }
  const params = await Promise.all(
    adapter.parameters.map(async (p) => new Uint32Array((await p.toArray()).buffer)),
  );
  opt.dispose();
  adapter.dispose();
  x.dispose();
  anchors.dispose();
  return { params, losses: new Uint32Array(losses.buffer) };
}

function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

Deno.test("an adapter training step (Mlp [32,64,32], MaWa, grad, AdamW) is bit-identical across runs", async () => {
  // Separate backend instances: nothing may leak between runs through backend state.
  const a = await train(new CpuBackend(), 11, 3);
  const b = await train(new CpuBackend(), 11, 3);
  const names = ["W1", "b1", "W2", "b2"];
  a.params.forEach((p, i) => {
    const at = firstDifference(p, b.params[i]);
    if (at >= 0) {
      throw new Error(`${names[i]} differs at element ${at}: ${hex([p[at]])} vs ${hex([b.params[i][at]])}`);
    }
  });
  if (firstDifference(a.losses, b.losses) >= 0) {
    throw new Error(`losses differ: ${hex(a.losses)} vs ${hex(b.losses)}`);
  }
  // The comparison has teeth: another seed gives other parameters, and training moved them.
  const c = await train(new CpuBackend(), 12, 3);
  if (firstDifference(a.params[0], c.params[0]) < 0) {
    throw new Error("seeds 11 and 12 gave identical weights");
  }
  const untrained = await train(new CpuBackend(), 11, 0);
  if (firstDifference(a.params[0], untrained.params[0]) < 0) throw new Error("three steps did not change W1");
});

Deno.test("philox4x32-10 matches the Random123 known-answer vectors", () => {
  const kat: [number[], number[], string][] = [
    [[0, 0, 0, 0], [0, 0], "6627e8d5 e169c58d bc57ac4c 9b00dbd8"],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      "408f276d 41c83b0e a20bc7c6 6d5451fd",
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      "d16cfe09 94fdcceb 5001e420 24126ea1",
    ],
  ];
  for (const [counter, key, want] of kat) {
    const got = hex(philox4x32(counter, key));
    if (got !== want) throw new Error(`philox4x32(${hex(counter)}; ${hex(key)}) = ${got}, expected ${want}`);
  }
  // The `out` argument is filled and returned.
  const out = new Uint32Array(4);
  if (philox4x32([0, 0, 0, 0], [0, 0], out) !== out || hex(out) !== kat[0][2]) {
    throw new Error("out not filled");
  }
});

Deno.test("draw i of a stream depends only on (seed, path, i), not on call order", () => {
  const forward = new CounterRng(5, "augment", "train", 17, 2);
  const inOrder = Array.from({ length: 64 }, (_, i) => forward.uniform(i));
  const backward = new CounterRng(5, "augment", "train", 17, 2);
  const reversed = Array.from({ length: 64 }, (_, i) => backward.uniform(63 - i)).reverse();
  if (inOrder.some((v, i) => v !== reversed[i])) throw new Error("uniform draws depend on call order");

  // Interleaving with another stream, and draws of other kinds in between, change nothing.
  const s = new CounterRng(5, "augment", "train", 17, 2),
    other = new CounterRng(5, "augment", "train", 17, 3);
  const interleaved = inOrder.map((_, i) => {
    other.normal(i);
    s.normal(1000 + i);
    return s.uniform(i);
  });
  if (interleaved.some((v, i) => v !== inOrder[i])) throw new Error("draws depend on other streams' calls");

  // Batched draws with an offset are the same draws.
  const batch = new CounterRng(5, "augment", "train", 17, 2).uniforms(16, 0, 1, 40);
  batch.forEach((v, i) => {
    if (v !== Math.fround(inOrder[40 + i])) {
      throw new Error(`uniforms(16, offset 40)[${i}] differs from draw ${40 + i}`);
    }
  });

  // Different paths, labels or seeds give different streams; the same ones give the same key.
  const keys = [
    new CounterRng(5, "augment", "train", 17, 2),
    new CounterRng(5, "augment", "train", 17, 3),
    new CounterRng(5, "augment", "test", 17, 2),
    new CounterRng(5, "augment", "train", 18, 2),
    new CounterRng(6, "augment", "train", 17, 2),
    new CounterRng(5, "augment", "train", "17", 2),
    new CounterRng(5, "augment", "train", 17),
  ].map((r) => hex(r.key));
  if (new Set(keys).size !== keys.length) throw new Error(`stream keys collide: ${keys.join(", ")}`);
  if (hex(new CounterRng(5, "augment", "train", 17, 2).key) !== keys[0]) {
    throw new Error("keys are not reproducible");
  }

  // Uniforms lie in [0, 1); a permutation is a permutation.
  if (inOrder.some((v) => !(v >= 0 && v < 1))) throw new Error("uniform outside [0, 1)");
  const perm = new CounterRng(1, "perm").permutation(100);
  if ([...perm].sort((a, b) => a - b).some((v, i) => v !== i)) throw new Error("permutation is not one");
});

Deno.test("normals: mean ≈ 0 and sd ≈ 1 over 100k draws", () => {
  const n = 100_000;
  const rng = new CounterRng(2024, "normals");
  let s = 0, s2 = 0, s4 = 0, within1 = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal(i);
    if (!Number.isFinite(z)) throw new Error(`normal(${i}) = ${z}`);
    s += z;
    s2 += z * z;
    s4 += z ** 4;
    if (Math.abs(z) < 1) within1++;
  }
  const mean = s / n, sd = Math.sqrt(s2 / n - mean * mean), kurtosis = s4 / n / (sd ** 4);
  // Tolerances are 5 standard errors: se(mean) = 1/√n ≈ 0.0032, se(sd) ≈ 1/√(2n) ≈ 0.0022,
  // se(kurtosis) ≈ √(24/n) ≈ 0.015, se(P(|z| < 1)) = √(p(1−p)/n) ≈ 0.0015.
  if (Math.abs(mean) > 5 / Math.sqrt(n)) throw new Error(`mean ${mean}`);
  if (Math.abs(sd - 1) > 5 / Math.sqrt(2 * n)) throw new Error(`sd ${sd}`);
  if (Math.abs(kurtosis - 3) > 5 * Math.sqrt(24 / n)) throw new Error(`kurtosis ${kurtosis}`);
  if (Math.abs(within1 / n - 0.6826894921) > 5 * Math.sqrt(0.6827 * 0.3173 / n)) {
    throw new Error(`P(|z|<1) ${within1 / n}`);
  }
  // normals(n, mean, std) scales the same draws.
  const scaled = new CounterRng(2024, "normals").normals(8, 3, 2);
  scaled.forEach((v, i) => {
    if (v !== Math.fround(3 + 2 * rng.normal(i))) throw new Error(`normals(8, 3, 2)[${i}] = ${v}`);
  });
});

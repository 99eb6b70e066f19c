/** The downstream classifiers LC, NC, EC: shapes, learning, determinism, MNIST pixels, errors. */
import assert from "node:assert/strict";
import { mnistDataDir, readIdxDir } from "../src/data/mnist.ts";
import { accuracy } from "../src/metrics/accuracy.ts";
import { Classifier, type ClassifierOptions, classifierSizes } from "../src/methods/classifier.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";

const backend = new CpuBackend();

/** k linearly separable classes in d dimensions: class c sits around 4·e_c, noise σ = 0.5. */
function separable(label: string, n: number, d: number, k: number) {
  const rng = new CounterRng(0, "tests", "classifier", label);
  const x = rng.normals(n * d, 0, 0.5), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(rng.uniform(1e7 + i) * k);
    x[i * d + y[i]] += 4;
  }
  return { x, y };
}

function options(
  kind: ClassifierOptions["kind"],
  inputDim: number,
  classes: number,
  extra: Partial<ClassifierOptions> = {},
) {
  return { kind, inputDim, classes, seed: 3, backend, epochs: 5, batchSize: 64, hidden: 32, ...extra };
}

Deno.test("classifier: layer sizes and parameter counts of LC, NC and EC (protocol widths)", () => {
  assert.deepEqual(classifierSizes("LC", 96, 10), [96, 10]);
  assert.deepEqual(classifierSizes("NC", 96, 10), [96, 4096, 10]);
  assert.deepEqual(classifierSizes("EC", 384, 10), [384, 4096, 4096, 10]);
  assert.throws(() => classifierSizes("XC" as "LC", 4, 2), /expected LC, NC or EC/);
});

Deno.test("classifier: LC, NC and EC separate a linearly separable problem", async () => {
  const d = 8, k = 4;
  const train = separable("train", 1000, d, k), test = separable("test", 500, d, k);
  for (const kind of ["LC", "NC", "EC"] as const) {
    // lr 1e-3 moves a weight by at most ~1e-3 a step: enough steps (30 epochs × 32 batches) to get there.
    const c = await Classifier.train(train.x, train.y, options(kind, d, k, { epochs: 30, batchSize: 32 }));
    try {
      const sizes = classifierSizes(kind, d, k, 32);
      const params = sizes.slice(1).reduce((s, out, i) => s + (sizes[i] + 1) * out, 0);
      assert.equal(c.trainableParameters, params);
      assert.equal(c.training.steps, 30 * Math.ceil(1000 / 32));
      assert.equal(c.training.epochLoss.length, 30);
      assert.ok(c.training.trainSeconds > 0);
      assert.equal(c.training.diverged, false);
      const { logits, labels } = await c.predict(test.x);
      assert.equal(logits.length, 500 * k);
      const acc = accuracy(logits, test.y, k);
      assert.ok(acc >= 0.98, `${kind} accuracy ${acc}`);
      assert.equal(labels.length, 500);
    } finally {
      c.dispose();
    }
  }
});

Deno.test("classifier: the same seed gives identical logits; another seed does not", async () => {
  const d = 6, k = 3;
  const { x, y } = separable("determinism", 300, d, k);
  const run = async (seed: number) => {
    const c = await Classifier.train(x, y, options("NC", d, k, { seed }));
    try {
      return { logits: (await c.predict(x)).logits, losses: c.training.epochLoss };
    } finally {
      c.dispose();
    }
  };
  const a = await run(11), b = await run(11), other = await run(12);
  assert.deepEqual(a.logits, b.logits);
  assert.deepEqual(a.losses, b.losses);
  assert.notDeepEqual(a.logits, other.logits);
});

Deno.test("classifier: predict gives the same logits whatever its batch size", async () => {
  const d = 6, k = 3;
  const { x, y } = separable("batches", 200, d, k);
  const c = await Classifier.train(x, y, options("LC", d, k));
  try {
    const whole = (await c.predict(x)).logits;
    const small = await c.predict(x, 7);
    // Small products run in JS, large ones through onnxruntime: equal to float32 rounding.
    whole.forEach((v, i) =>
      assert.ok(Math.abs(v - small.logits[i]) <= 1e-5 * (1 + Math.abs(v)), `logit ${i}`)
    );
  } finally {
    c.dispose();
  }
});

Deno.test("classifier: a diverging run is reported and stopped, not hidden", async () => {
  const d = 4, k = 2;
  const { x, y } = separable("diverge", 128, d, k);
  const c = await Classifier.train(x.map((v) => v * 1e20), y, options("LC", d, k, { lr: 1e30, epochs: 5 }));
  try {
    assert.equal(c.training.diverged, true);
    assert.ok(c.training.epochs < 5);
    assert.ok(!Number.isFinite(c.training.epochLoss.at(-1)!));
  } finally {
    c.dispose();
  }
});

Deno.test("classifier: rejects labels out of range and mismatched inputs", async () => {
  const x = new Float32Array(8);
  await assert.rejects(
    Classifier.train(x, new Int32Array([0, 1, 2, 3]), options("LC", 2, 3)),
    /label 3 at row 3/,
  );
  await assert.rejects(Classifier.train(x, new Int32Array(3), options("LC", 2, 3)), /3 labels for 4 rows/);
  await assert.rejects(Classifier.train(x, new Int32Array(2), options("LC", 3, 3)), /multiple of inputDim 3/);
  await assert.rejects(Classifier.train(x, new Int32Array(4), options("LC", 2, 1)), /expected ≥ 2/);
  const c = await Classifier.train(x, new Int32Array(4), options("LC", 2, 2, { epochs: 1 }));
  await assert.rejects(c.predict(new Float32Array(3)), /multiple of inputDim 2/);
  c.dispose();
});

// Its speed is measured by `deno task bench` (benchmarks/classifier_bench.ts), not asserted here.
Deno.test("classifier: LC on MNIST pixels (10000 train images, protocol schedule) reaches ≥ 0.9", async () => {
  const dir = mnistDataDir();
  const train = readIdxDir(dir, "train"), test = readIdxDir(dir, "test");
  const pixels = (v: Uint8Array | Float32Array, n: number) =>
    Float32Array.from(v.subarray(0, n * 784), (p) => p / 255);
  const ntr = 10000;
  const c = await Classifier.train(pixels(train.raw.values, ntr), train.raw.labels.subarray(0, ntr), {
    kind: "LC",
    inputDim: 784,
    classes: 10,
    seed: 0,
    backend,
  });
  try {
    const { logits } = await c.predict(pixels(test.raw.values, 10000));
    const acc = accuracy(logits, test.raw.labels, 10);
    console.log(`MNIST LC: accuracy ${acc}, train ${c.training.trainSeconds.toFixed(2)} s`);
    assert.equal(c.training.epochs, 50);
    assert.equal(c.trainableParameters, 7850);
    assert.ok(acc >= 0.9, `accuracy ${acc}`);
  } finally {
    c.dispose();
  }
});

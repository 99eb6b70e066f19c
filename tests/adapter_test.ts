/**
 * `Adapter.train` on a synthetic view pool where view v of input i is clean_i + (v+1)·offset, so
 * every feature row says which input and which view it is. A recording loss (MaWa, plus a copy of
 * each batch) checks the row layout every loss relies on (src/methods/losses/spec.ts): anchors are
 * the batch's clean rows repeated s+1 times, block 0 of the adapter inputs is those clean rows,
 * block k (k ≥ 1) is a pool view of the same input, s distinct views per input, never a clean row;
 * each epoch visits every input once; steps count up. Then MaWa training pulls E(view) towards
 * F(clean) compared with the untrained adapter.
 */
import assert from "node:assert/strict";
import { Adapter, type AdapterLoss, type AdapterOptions, CounterRng, LOSSES } from "../mod.ts";
import { EMBED_BATCH } from "../src/methods/adapter.ts";
import { memoryRows, readAll } from "../src/cache/feature_rows.ts";
import { cpuBackend } from "./helpers.ts";

const n = 10, d = 3, V = 4, S = 2, BATCH = 4, EPOCHS = 3, SEED = 5;
const OFFSET = [2.5, -1.5, 2];

function syntheticPool() {
  const clean = new CounterRng(0, "tests", "adapter-clean").normals(n * d);
  const pool = Array.from({ length: V }, (_, v) => clean.map((x, k) => x + (v + 1) * OFFSET[k % d]));
  return { clean, pool };
}

/** One loss call as the loss saw it. */
interface Call {
  views: number;
  seed: number;
  step: number;
  y: Float32Array;
  anchors: Float32Array;
}

/** MaWa that keeps a copy of every batch it is given. */
function recordingMawa(calls: Call[]): AdapterLoss {
  const mawa = LOSSES.get("mawa");
  return {
    ...mawa,
    compute(batch, params) {
      calls.push({
        views: batch.views,
        seed: batch.seed,
        step: batch.step,
        y: batch.y.toArraySync(),
        anchors: batch.anchors.toArraySync(),
      });
      return mawa.compute(batch, params);
    },
  };
}

function options(loss: AdapterOptions["loss"], lr: number, epochs = EPOCHS): AdapterOptions {
  return {
    loss,
    hidden: 32,
    outDim: d,
    epochs,
    batch: BATCH,
    views: S,
    lr,
    lrMin: lr / 10,
    weightDecay: 0,
    seed: SEED,
    backend: cpuBackend(),
  };
}

/** Index of the row of `rows` ([m, width]) nearest to `x`, which must be unambiguous. */
function nearest(rows: Float32Array, width: number, x: Float32Array): number {
  let best = -1, bestD = Infinity, second = Infinity;
  for (let r = 0; r < rows.length / width; r++) {
    let s = 0;
    for (let k = 0; k < width; k++) s += (rows[r * width + k] - x[k]) ** 2;
    if (s < bestD) [second, bestD, best] = [bestD, s, r];
    else if (s < second) second = s;
  }
  assert.ok(bestD <= 1e-10 && second > 1e-4, `row not identified: nearest ${bestD}, second ${second}`);
  return best;
}

Deno.test("adapter: every batch has the (s+1)N row layout, views from the pool, never the clean rows", async () => {
  const { clean, pool } = syntheticPool();
  const calls: Call[] = [];
  // lr = 0: E stays at its initialisation, so each adapter output identifies its input row.
  const e = await Adapter.train(clean, pool, d, options(recordingMawa(calls), 0));
  try {
    // E applied to every candidate row: candidate c = v·n + i is clean row i (v = 0) or pool view v−1.
    const candidates = new Float32Array((V + 1) * n * d);
    candidates.set(clean);
    pool.forEach((p, v) => candidates.set(p, (v + 1) * n * d));
    const images = await e.embed(candidates, d);

    const stepsPerEpoch = Math.ceil(n / BATCH);
    assert.equal(calls.length, EPOCHS * stepsPerEpoch);
    assert.equal(e.training.steps, calls.length);
    const usedViews = new Set<number>();
    calls.forEach((call, step) => {
      assert.equal(call.step, step, "steps count up from 0");
      assert.equal(call.seed, SEED);
      assert.equal(call.views, S + 1);
      const rows = call.y.length / d, N = rows / (S + 1);
      const b0 = (step % stepsPerEpoch) * BATCH;
      assert.equal(N, Math.min(BATCH, n - b0), `step ${step}: inputs in the batch`);
      const source = Array.from(
        { length: rows },
        (_, r) => nearest(images, d, call.y.subarray(r * d, (r + 1) * d)),
      );
      for (let j = 0; j < N; j++) {
        // Block 0: a clean row, and the anchors of every block are that clean row.
        assert.ok(source[j] < n, `step ${step} row ${j}: block 0 is not a clean row`);
        const input = source[j];
        for (let k = 0; k <= S; k++) {
          const a = call.anchors.subarray((k * N + j) * d, (k * N + j + 1) * d);
          assert.deepEqual(
            Array.from(a),
            Array.from(clean.subarray(input * d, (input + 1) * d)),
            `anchor ${k}`,
          );
        }
        const views = new Set<number>();
        for (let k = 1; k <= S; k++) {
          const c = source[k * N + j], v = Math.floor(c / n) - 1;
          assert.ok(v >= 0, `step ${step}: view row ${k * N + j} is a clean row, not a pool view`);
          assert.equal(c % n, input, `step ${step}: view ${k} of row ${j} is another input's`);
          views.add(v);
          usedViews.add(v);
        }
        assert.equal(views.size, S, `step ${step} row ${j}: the s views are distinct`);
      }
    });
    // Each epoch visits every input exactly once, in an order of its own.
    const orders: number[][] = [];
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const order = calls.slice(epoch * stepsPerEpoch, (epoch + 1) * stepsPerEpoch).flatMap((call) => {
        const N = call.y.length / d / (S + 1);
        return Array.from({ length: N }, (_, j) => nearest(images, d, call.y.subarray(j * d, (j + 1) * d)));
      });
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
        `epoch ${epoch}`,
      );
      orders.push(order);
    }
    assert.ok(
      orders.some((o) => JSON.stringify(o) !== JSON.stringify(orders[0])),
      "every epoch in the same order",
    );
    // Views are drawn afresh every step: which views the j-th row of a batch gets differs between steps.
    const minN = n - (stepsPerEpoch - 1) * BATCH;
    const drawn = calls.map((call) => {
      const N = call.y.length / d / (S + 1);
      return Array.from({ length: S * minN }, (_, t) => {
        const r = (1 + Math.floor(t / minN)) * N + (t % minN); // row t % minN of view block 1 + ⌊t / minN⌋
        return Math.floor(nearest(images, d, call.y.subarray(r * d, (r + 1) * d)) / n);
      });
    });
    assert.ok(
      drawn.slice(0, stepsPerEpoch).some((v) => JSON.stringify(v) !== JSON.stringify(drawn[0])),
      "the same view choices in every step of an epoch",
    );
    // The draws reach the whole pool, not only its first s views.
    assert.deepEqual([...usedViews].sort(), Array.from({ length: V }, (_, v) => v));
  } finally {
    e.dispose();
  }
});

/** Mean over pool views and inputs of ‖E(view) − F(clean)‖. */
async function viewToClean(e: Adapter, clean: Float32Array, pool: Float32Array[]): Promise<number> {
  let total = 0;
  for (const view of pool) {
    const out = await e.embed(view, d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (out[i * d + k] - clean[i * d + k]) ** 2;
      total += Math.sqrt(s);
    }
  }
  return total / (pool.length * n);
}

Deno.test("adapter: MaWa training pulls E(view) towards F(clean), far below the untrained adapter", async () => {
  const { clean, pool } = syntheticPool();
  const untrained = await Adapter.train(clean, pool, d, options("mawa", 0, 1));
  const trained = await Adapter.train(clean, pool, d, options("mawa", 1e-2, 200));
  try {
    const before = await viewToClean(untrained, clean, pool);
    const after = await viewToClean(trained, clean, pool);
    // Leaving features as they are keeps each view (v+1)·‖offset‖ away from its clean row.
    const norm = Math.hypot(...OFFSET), identity = norm * (V + 1) / 2;
    assert.equal(trained.training.status, "ok");
    assert.ok(after < 0.25 * before, `trained ${after} vs untrained ${before}`);
    assert.ok(after < 0.25 * identity, `trained ${after} vs ${identity} for E = identity`);
    const losses = trained.training.epochLoss;
    assert.ok(losses[losses.length - 1] < 0.1 * losses[0], `epoch losses ${losses[0]} → ${losses.at(-1)}`);
  } finally {
    untrained.dispose();
    trained.dispose();
  }
});

Deno.test("adapter: E spilled to disk equals E in memory bit for bit, over several passes", async () => {
  // E's last bits depend on the pass size, so the two paths (a run with a feature cache and one
  // without) must pass the same rows together.
  const { clean, pool } = syntheticPool();
  const e = await Adapter.train(clean, pool, d, options("mawa", 1e-2, 2));
  const rows = 2 * EMBED_BATCH + 7; // two full passes and a short one
  const x = new CounterRng(1, "tests", "adapter-embed-rows").normals(rows * d);
  const spilled = await e.embedRows(memoryRows(x, d), d);
  try {
    assert.equal(spilled.rows, rows);
    assert.deepEqual(readAll(spilled), await e.embed(x, d));
  } finally {
    spilled.close();
    e.dispose();
  }
});

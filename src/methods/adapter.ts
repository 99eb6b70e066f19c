/**
 * Training the adapter E = (d, hidden, d') MLP with ReLU on frozen backbone features (docs/protocol.md):
 * AdamW, cosine annealing from lr to lrMin over all steps, batches of N clean inputs with s
 * augmented views each. Augmented views are fresh (./fresh_views.ts: new parameters for every
 * view of every step, extracted an epoch at a time) or come from a cached pool of V ≥ s views per
 * image, from which every step draws s distinct pool views per input afresh, from
 * CounterRng(seed, "adapter", "views", step); either way the views are the same on every backend
 * and whatever the order of cells.
 */
import { Mlp } from "../nn/mlp.ts";
import { trainStep } from "../nn/train_step.ts";
import { CounterRng } from "../rng/philox.ts";
import type { Backend } from "../tensor/backend.ts";
import { add, mul, tensor } from "../tensor/ops.ts";
import {
  collect,
  type FeatureRows,
  type FeatureStream,
  memoryRows,
  spillRows,
} from "../cache/feature_rows.ts";
import { AdamW, cosineLr } from "../tensor/optim.ts";
import { noGrad, type Tensor, tidy } from "../tensor/tensor.ts";
import { resolveParams, withLateDefaults } from "../catalog/entries.ts";
import { ConfigError } from "../errors.ts";
import { LOSSES } from "./losses/index.ts";
import type { AdapterLoss } from "./losses/spec.ts";
import type { FreshViews } from "./fresh_views.ts";

export interface AdapterOptions {
  /** A loss name of src/methods/losses/registered.ts, or a loss itself (a method file's UserLoss). */
  loss: string | AdapterLoss;
  /** Loss parameters from the matrix (validated against the loss's spec). */
  params?: Record<string, unknown>;
  hidden: number;
  /** d' (output dimension); d for every loss except dimension-reducing WaCo. */
  outDim: number;
  epochs: number;
  /** N clean inputs per step. */
  batch: number;
  /** s augmented views per input per step (≤ the pool size V). */
  views: number;
  lr: number;
  lrMin: number;
  weightDecay: number;
  seed: number;
  backend: Backend;
  /** Called after every epoch with its mean loss (progress display). */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

export interface AdapterTraining {
  status: "ok" | "diverged" | "collapsed";
  reason?: string;
  epochLoss: number[];
  steps: number;
  trainableParameters: number;
  trainSeconds: number;
  /** Whether E's outputs on a sample of the train inputs are finite (false: nothing to evaluate). */
  finiteOutputs: boolean;
}

/**
 * One view of the pool as a step reads it: rows [rows, cols] by image index, from the cache
 * (FeatureRows) or produced when asked.
 */
export interface ViewRows {
  readonly rows: number;
  readonly cols: number;
  read(images: Int32Array, out?: Float32Array): Float32Array | Promise<Float32Array>;
}

/** Relative per-dimension spread below which the adapter's outputs count as collapsed. */
export const COLLAPSE_RATIO = 1e-3;

/**
 * Rows per forward pass when E maps a split. E's outputs differ in the last bit with the pass size
 * (the CPU backend's sums round differently), so the in-memory and the spilled paths share it and
 * changing it changes results. A smaller pass would lower the peak at 60000 train images (each
 * pass's activations are freed by the garbage collector only later: docs/data.md, "Memory").
 */
export const EMBED_BATCH = 4096;

function meanColumnStd(x: Float32Array, n: number, d: number): number {
  let total = 0;
  for (let j = 0; j < d; j++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i * d + j];
      s += v;
      s2 += v * v;
    }
    const m = s / n;
    total += Math.sqrt(Math.max(0, s2 / n - m * m));
  }
  return total / d;
}

/** A trained adapter on one backend; `dispose` frees its weights. */
export class Adapter {
  private constructor(readonly network: Mlp, readonly training: AdapterTraining, readonly backend: Backend) {}

  /**
   * Trains E on clean features `clean` [n, d] and the view pool `pool` (V matrices [n, d], view v
   * of image i in row i of pool[v]), arrays or rows read on demand: a step reads its own rows, so
   * memory holds one batch of them (docs/data.md, "Memory"). A view's rows may also be produced
   * per step (`ViewRows.read` may be async). Fresh views (./fresh_views.ts) replace the pool by
   * the current epoch's s views, each input taking views 0..s−1 in order.
   */
  static async train(
    cleanFeatures: Float32Array | FeatureRows,
    views: readonly (Float32Array | ViewRows)[] | FreshViews,
    d: number,
    o: AdapterOptions,
  ): Promise<Adapter> {
    const clean = cleanFeatures instanceof Float32Array ? memoryRows(cleanFeatures, d) : cleanFeatures;
    const fresh = "kind" in views ? views : null;
    const asRows = (list: readonly (Float32Array | ViewRows)[]): ViewRows[] =>
      list.map((x) => (x instanceof Float32Array ? memoryRows(x, d) : x));
    let pool: ViewRows[] = fresh ? [] : asRows(views as readonly (Float32Array | ViewRows)[]);
    const n = clean.rows;
    // Views a step chooses from: the pool, or the current epoch's s fresh views.
    const V = fresh ? fresh.views : pool.length, s = o.views, backend = o.backend;
    if (!Number.isInteger(n) || n < 1 || clean.cols !== d) {
      throw new RangeError(`adapter: clean features [${n}, ${clean.cols}] are not [n, ${d}]`);
    }
    if (s < 1 || s > V) {
      throw new RangeError(
        `adapter: ${s} views per step from ${fresh ? "fresh" : "a pool of"} ${V}; expected 1 ≤ s ≤ V`,
      );
    }
    const checkViews = (list: readonly ViewRows[], what: string) => {
      for (const [v, p] of list.entries()) {
        if (p.rows !== n || p.cols !== d) {
          throw new RangeError(`adapter: ${what} view ${v} is [${p.rows}, ${p.cols}]; expected [${n}, ${d}]`);
        }
      }
    };
    checkViews(pool, "pool");
    const loss = typeof o.loss === "string" ? LOSSES.get(o.loss) : o.loss;
    const params = withLateDefaults(
      loss.params,
      resolveParams(`${loss.name} params`, loss.params, o.params ?? {}),
    );
    if (loss.sameDim && o.outDim !== d) {
      throw new ConfigError("training.out_ratio", `loss ${loss.name} needs d' = d (${d}), got ${o.outDim}`);
    }
    // The batch shapes of this training: full batches of N inputs, and a smaller last one.
    const batchSizes = new Set([Math.min(o.batch, n), n % o.batch].filter((b) => b > 0));
    await loss.prepare?.(
      [...batchSizes].map((b) => ({ rows: (s + 1) * b, outDim: o.outDim, inDim: d, views: s + 1 })),
      params,
    );
    const started = performance.now();
    // Time spent extracting fresh views is not training (like the pool's extraction before it).
    let extractSeconds = 0;
    // The current epoch's fresh views, which this training opened and closes.
    let epochViews: (Float32Array | FeatureRows)[] = [];
    const closeEpochViews = () => epochViews.forEach((x) => x instanceof Float32Array || x.close());
    const network = new Mlp([d, o.hidden, o.outDim], o.seed, "adapter", backend);
    const opt = new AdamW(network.parameters, { lr: o.lr, weightDecay: o.weightDecay });
    const buffers = new Map<number, { x: Float32Array; anchors: Float32Array; view: Float32Array }>();
    const steps = Math.ceil(n / o.batch), totalSteps = o.epochs * steps;
    const epochLoss: number[] = [];
    let step = 0;
    let status: AdapterTraining["status"] = "ok", reason: string | undefined;
    try {
      for (let epoch = 0; epoch < o.epochs && status === "ok"; epoch++) {
        if (fresh) {
          const fetching = performance.now();
          closeEpochViews();
          epochViews = await fresh.epoch(epoch);
          pool = asRows(epochViews);
          extractSeconds += (performance.now() - fetching) / 1000;
          checkViews(pool, `fresh epoch ${epoch}`);
        }
        const perm = new CounterRng(o.seed, "adapter", "order", epoch).permutation(n);
        let lossSum: Tensor | null = null;
        for (let b0 = 0; b0 < n; b0 += o.batch) {
          const rows = perm.subarray(b0, Math.min(n, b0 + o.batch)), N = rows.length;
          // Row layout of every loss: clean rows, then view k of every input (k = 1..s).
          const draw = new CounterRng(o.seed, "adapter", "views", step);
          const choice = new Int32Array(V);
          // Per pool view, the inputs that use it: (row of x, image).
          const byView = Array.from({ length: V }, () => ({ at: [] as number[], images: [] as number[] }));
          for (let j = 0; j < N; j++) {
            // s distinct pool views for input j: a partial Fisher–Yates over 0..V−1 (fresh: the
            // epoch's views 0..s−1 in order).
            for (let v = 0; v < V; v++) choice[v] = v;
            for (let k = 0; k < s && !fresh; k++) {
              const r = k + Math.floor(draw.uniform(j * V + k) * (V - k));
              [choice[k], choice[r]] = [choice[r], choice[k]];
            }
            for (let k = 1; k <= s; k++) {
              byView[choice[k - 1]].at.push(k * N + j);
              byView[choice[k - 1]].images.push(rows[j]);
            }
          }
          // The step's rows, read from the pool (in memory or on disk) into buffers reused step after
          // step: x = [clean; views], anchors = clean × (s + 1).
          const buf = buffers.get(N) ?? {
            x: new Float32Array((s + 1) * N * d),
            anchors: new Float32Array((s + 1) * N * d),
            view: new Float32Array(N * d),
          };
          buffers.set(N, buf);
          const { x: xRows, anchors: anchorRows } = buf;
          const cleanRows = clean.read(rows, buf.view);
          xRows.set(cleanRows, 0);
          for (let k = 0; k <= s; k++) anchorRows.set(cleanRows, k * N * d);
          for (const [v, { at, images }] of byView.entries()) {
            if (at.length === 0) continue;
            const got = await pool[v].read(Int32Array.from(images), buf.view);
            at.forEach((row, i) => xRows.set(got.subarray(i * d, (i + 1) * d), row * d));
          }
          const stepIndex = step;
          const value = trainStep(opt, () => {
            const x = tensor(xRows, [(s + 1) * N, d], { backend });
            const a = tensor(anchorRows, [(s + 1) * N, d], { backend });
            return loss.compute({
              y: network.forward(x),
              anchors: a,
              views: s + 1,
              seed: o.seed,
              step: stepIndex,
            }, params);
          }, cosineLr(step, totalSteps, o.lr, o.lrMin));
          step++;
          const prev: Tensor | null = lossSum;
          lossSum = tidy(() => (prev ? add(prev, mul(value, N)) : mul(value, N)));
          prev?.dispose();
          value.dispose();
        }
        const mean = (await lossSum!.item()) / n;
        lossSum!.dispose();
        epochLoss.push(mean);
        o.onEpoch?.(epoch, mean);
        if (!Number.isFinite(mean)) {
          status = "diverged";
          reason = `the ${loss.name} loss became ${mean} in epoch ${epoch + 1}`;
        }
      }
    } catch (e) {
      network.dispose();
      throw e;
    } finally {
      closeEpochViews();
      opt.dispose();
    }
    const adapter = new Adapter(network, {
      status,
      reason,
      epochLoss,
      steps: step,
      trainableParameters: network.parameterCount,
      trainSeconds: 0,
      finiteOutputs: true,
    }, backend);
    const sample = Math.min(n, 2048);
    const first = clean.read(Int32Array.from({ length: sample }, (_, i) => i));
    const out = await adapter.embed(first, d);
    if (!out.every(Number.isFinite)) {
      // Weights that diverged, possibly in the last step (after the last epoch loss was summed).
      adapter.training.status = "diverged";
      adapter.training.finiteOutputs = false;
      adapter.training.reason = `${reason ? `${reason}; ` : ""}E's outputs are not finite after training`;
    } else if (status === "ok") {
      // Collapse: E maps distinct inputs to (nearly) one point, relative to F's own spread.
      const spreadF = meanColumnStd(first, sample, d);
      const spreadE = meanColumnStd(out, sample, o.outDim);
      if (!(spreadE >= COLLAPSE_RATIO * spreadF)) {
        adapter.training.status = "collapsed";
        adapter.training.reason = `outputs collapsed: mean per-dimension sd ${spreadE.toExponential(2)} vs ${
          spreadF.toExponential(2)
        } for F`;
      }
    }
    adapter.training.trainSeconds = (performance.now() - started) / 1000 - extractSeconds;
    return adapter;
  }

  /** E(features) for row-major `features` [n, d] (an array or rows on demand), in batches; returns [n, d'] row-major. */
  embed(features: Float32Array | FeatureRows, d: number, batch = EMBED_BATCH): Promise<Float32Array> {
    return collect(this.#embedStream(features, d, batch));
  }

  /** `embed` into a private temp file, read back by row: E of a large split without holding it. */
  embedRows(features: Float32Array | FeatureRows, d: number, batch = EMBED_BATCH): Promise<FeatureRows> {
    return spillRows(this.#embedStream(features, d, batch));
  }

  #embedStream(features: Float32Array | FeatureRows, d: number, batch: number): FeatureStream {
    const n = features instanceof Float32Array ? features.length / d : features.rows;
    const outDim = this.network.sizes[this.network.sizes.length - 1];
    const rowsOf = (b0: number, b1: number) =>
      features instanceof Float32Array
        ? features.subarray(b0 * d, b1 * d)
        : features.read(Int32Array.from({ length: b1 - b0 }, (_, i) => b0 + i));
    const network = this.network, backend = this.backend;
    return {
      rows: n,
      cols: outDim,
      chunks: async function* () {
        for (let b0 = 0; b0 < n; b0 += batch) {
          const b1 = Math.min(n, b0 + batch);
          const x = rowsOf(b0, b1);
          const y = noGrad(() => tidy(() => network.forward(tensor(x, [b1 - b0, d], { backend }))));
          try {
            yield await y.toArray();
          } finally {
            y.dispose();
          }
        }
      },
    };
  }

  dispose(): void {
    this.network.dispose();
  }
}

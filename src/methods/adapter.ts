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
import { add, gatherRows, indexTensor, mul, tensor } from "../tensor/ops.ts";
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
}

/** Relative per-dimension spread below which the adapter's outputs count as collapsed. */
export const COLLAPSE_RATIO = 1e-3;

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
   * Trains E on clean features `clean` [n, d] and augmented views: the view pool `views` (V
   * arrays [n, d], view v of image i in row i of views[v]), or fresh views, s per epoch.
   */
  static async train(
    clean: Float32Array,
    views: readonly Float32Array[] | FreshViews,
    d: number,
    o: AdapterOptions,
  ): Promise<Adapter> {
    const n = clean.length / d;
    const fresh = "kind" in views ? views : null;
    const pool = fresh ? [] : views as readonly Float32Array[];
    // Views on the device at once: the pool, or the current epoch's s fresh views.
    const V = fresh ? fresh.views : pool.length, s = o.views, backend = o.backend;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`adapter: ${clean.length} values is not [n, ${d}]`);
    }
    if (s < 1 || s > V) {
      throw new RangeError(
        `adapter: ${s} views per step from ${fresh ? "fresh" : "a pool of"} ${V}; expected 1 ≤ s ≤ V`,
      );
    }
    const checkViews = (list: readonly Float32Array[], what: string) => {
      for (const [v, p] of list.entries()) {
        if (p.length !== clean.length) {
          throw new RangeError(`adapter: ${what} view ${v} has ${p.length} values; expected ${clean.length}`);
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
    const network = new Mlp([d, o.hidden, o.outDim], o.seed, "adapter", backend);
    const opt = new AdamW(network.parameters, { lr: o.lr, weightDecay: o.weightDecay });
    // Features on the device: clean rows first, then view v at rows (v+1)·n; the pool once, fresh
    // views an epoch at a time.
    const upload = (list: readonly Float32Array[]) => {
      const stacked = new Float32Array((V + 1) * n * d);
      stacked.set(clean, 0);
      list.forEach((p, v) => stacked.set(p, (v + 1) * n * d));
      return tensor(stacked, [(V + 1) * n, d], { backend });
    };
    let all = fresh ? null : upload(pool);
    const steps = Math.ceil(n / o.batch), totalSteps = o.epochs * steps;
    const epochLoss: number[] = [];
    let step = 0;
    let status: AdapterTraining["status"] = "ok", reason: string | undefined;
    try {
      for (let epoch = 0; epoch < o.epochs && status === "ok"; epoch++) {
        if (fresh) {
          const fetching = performance.now();
          const list = await fresh.epoch(epoch);
          extractSeconds += (performance.now() - fetching) / 1000;
          checkViews(list, `fresh epoch ${epoch}`);
          all?.dispose();
          all = upload(list);
        }
        const epochViews = all!;
        const perm = new CounterRng(o.seed, "adapter", "order", epoch).permutation(n);
        let lossSum: Tensor | null = null;
        for (let b0 = 0; b0 < n; b0 += o.batch) {
          const rows = perm.subarray(b0, Math.min(n, b0 + o.batch)), N = rows.length;
          // Row layout of every loss: clean rows, then view k of every input (k = 1..s).
          const inputs = new Int32Array((s + 1) * N), anchors = new Int32Array((s + 1) * N);
          const draw = new CounterRng(o.seed, "adapter", "views", step);
          const choice = new Int32Array(V);
          for (let v = 0; v < V; v++) choice[v] = v;
          for (let j = 0; j < N; j++) {
            // s distinct pool views for input j: a partial Fisher–Yates over 0..V−1 (fresh: the
            // epoch's views 0..s−1 in order).
            for (let v = 0; v < V && !fresh; v++) choice[v] = v;
            for (let k = 0; k < s && !fresh; k++) {
              const r = k + Math.floor(draw.uniform(j * V + k) * (V - k));
              [choice[k], choice[r]] = [choice[r], choice[k]];
            }
            inputs[j] = rows[j];
            for (let k = 0; k <= s; k++) anchors[k * N + j] = rows[j];
            for (let k = 1; k <= s; k++) inputs[k * N + j] = (choice[k - 1] + 1) * n + rows[j];
          }
          const stepIndex = step;
          const value = trainStep(opt, () => {
            const x = gatherRows(epochViews, indexTensor(inputs, undefined, backend));
            const a = gatherRows(epochViews, indexTensor(anchors, undefined, backend));
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
      all?.dispose();
      opt.dispose();
    }
    const adapter = new Adapter(network, {
      status,
      reason,
      epochLoss,
      steps: step,
      trainableParameters: network.parameterCount,
      trainSeconds: 0,
    }, backend);
    if (status === "ok") {
      // Collapse: E maps distinct inputs to (nearly) one point, relative to F's own spread.
      const sample = Math.min(n, 2048);
      const out = await adapter.embed(clean.subarray(0, sample * d), d);
      const spreadF = meanColumnStd(clean.subarray(0, sample * d), sample, d);
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

  /** E(features) for row-major `features` [n, d], in batches; returns [n, d'] row-major. */
  async embed(features: Float32Array, d: number, batch = 4096): Promise<Float32Array> {
    const n = features.length / d, outDim = this.network.sizes[this.network.sizes.length - 1];
    const out = new Float32Array(n * outDim);
    for (let b0 = 0; b0 < n; b0 += batch) {
      const b1 = Math.min(n, b0 + batch);
      const y = noGrad(() =>
        tidy(() =>
          this.network.forward(
            tensor(features.subarray(b0 * d, b1 * d), [b1 - b0, d], { backend: this.backend }),
          )
        )
      );
      out.set(await y.toArray(), b0 * outDim);
      y.dispose();
    }
    return out;
  }

  dispose(): void {
    this.network.dispose();
  }
}

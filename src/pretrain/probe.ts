/**
 * A linear probe (multinomial logistic regression) trained on the tensor core, used to check the
 * fixture backbones' features: features are standardised with the train mean/std per dimension
 * (an affine map, so the probe stays linear in the features), then W [d, k], b [1, k] start at
 * zero and are trained with softmax cross-entropy, AdamW (no weight decay) and a cosine schedule
 * on minibatches drawn from CounterRng(seed, "fixture-probe", "batches", epoch) permutations.
 */
import type { Backend } from "../tensor/backend.ts";
import { add, gatherRows, indexTensor, matmul, param, softmaxCrossEntropy, tensor } from "../tensor/ops.ts";
import { AdamW, cosineLr } from "../tensor/optim.ts";
import { getBackend, tidy } from "../tensor/tensor.ts";
import { trainStep } from "../nn/train_step.ts";
import { CounterRng } from "../rng/philox.ts";

export interface ProbeOptions {
  /** Passes over the train features (default 20). */
  epochs?: number;
  /** Rows per step (default 256). */
  batchSize?: number;
  /** Peak learning rate (default 1e-2), annealed to `minLr` (default 1e-4). */
  lr?: number;
  minLr?: number;
  seed?: number;
  backend?: Backend;
}

/** A trained linear probe. */
export interface LinearProbe {
  dim: number;
  classes: number;
  /** Per-dimension standardisation applied before the linear map. */
  mean: Float32Array;
  std: Float32Array;
  /** [dim, classes] row-major and [classes]. */
  weight: Float32Array;
  bias: Float32Array;
}

/** Standardisation statistics per column of an [n, d] matrix (std floored at 1e-6). */
export function columnStats(
  x: Float32Array,
  n: number,
  d: number,
): { mean: Float32Array; std: Float32Array } {
  const s = new Float64Array(d), s2 = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j];
      s[j] += v;
      s2[j] += v * v;
    }
  }
  const mean = new Float32Array(d), std = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] = s[j] / n;
    std[j] = Math.max(1e-6, Math.sqrt(Math.max(0, s2[j] / n - (s[j] / n) ** 2)));
  }
  return { mean, std };
}

function standardise(x: Float32Array, d: number, mean: Float32Array, std: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean[i % d]) / std[i % d];
  return out;
}

/** Fits a linear probe to features `x` [n, d] with labels in 0..classes−1. */
export async function fitLinearProbe(
  x: Float32Array,
  labels: Int32Array,
  classes: number,
  opts: ProbeOptions = {},
): Promise<LinearProbe> {
  const n = labels.length;
  if (n === 0 || x.length % n !== 0) {
    throw new RangeError(`fitLinearProbe: ${x.length} values for ${n} labels`);
  }
  const d = x.length / n;
  const epochs = opts.epochs ?? 20, batch = Math.min(opts.batchSize ?? 256, n);
  const lr = opts.lr ?? 1e-2, minLr = opts.minLr ?? 1e-4, seed = opts.seed ?? 0;
  const backend = opts.backend ?? getBackend();
  const { mean, std } = columnStats(x, n, d);
  const xs = tensor(standardise(x, d, mean, std), [n, d], { backend });
  const w = param(new Float32Array(d * classes), [d, classes], backend);
  const b = param(new Float32Array(classes), [1, classes], backend);
  const opt = new AdamW([w, b], { lr, weightDecay: 0 });
  const steps = Math.ceil(n / batch);
  try {
    for (let e = 0; e < epochs; e++) {
      const perm = new CounterRng(seed, "fixture-probe", "batches", e).permutation(n);
      for (let s = 0; s < steps; s++) {
        const rows = perm.subarray(s * batch, Math.min(n, (s + 1) * batch));
        const y = Int32Array.from(rows, (r) => labels[r]);
        const loss = tidy(() => {
          const xb = gatherRows(xs, indexTensor(rows, [rows.length, 1], backend));
          const yb = indexTensor(y, [rows.length, 1], backend);
          return trainStep(
            opt,
            () => softmaxCrossEntropy(add(matmul(xb, w), b), yb),
            cosineLr(e * steps + s, epochs * steps, lr, minLr),
          );
        });
        loss.dispose();
      }
    }
    return { dim: d, classes, mean, std, weight: await w.toArray(), bias: await b.toArray() };
  } finally {
    opt.dispose();
    for (const t of [xs, w, b]) t.dispose();
  }
}

/** The probe's predicted class for each row of `x` [n, d] (float64 on the host; ties → lowest class). */
export function predict(probe: LinearProbe, x: Float32Array): Int32Array {
  const { dim: d, classes: k, mean, std, weight, bias } = probe;
  const n = x.length / d;
  const out = new Int32Array(n);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = (x[i * d + j] - mean[j]) / std[j];
    let best = -Infinity, arg = 0;
    for (let c = 0; c < k; c++) {
      let s = bias[c];
      for (let j = 0; j < d; j++) s += z[j] * weight[j * k + c];
      if (s > best) [best, arg] = [s, c];
    }
    out[i] = arg;
  }
  return out;
}

/** Fraction of rows of `x` the probe classifies as `labels`. */
export function probeAccuracy(probe: LinearProbe, x: Float32Array, labels: Int32Array): number {
  const pred = predict(probe, x);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++;
  return correct / labels.length;
}

/**
 * Accuracy (docs/protocol.md, Metrics): clean test accuracy, and augmented test accuracy over K
 * augmentation draws of the whole test set, reported as mean and spread. Accuracies are
 * fractions in [0, 1], as the result schema stores them.
 */

/** Row-wise argmax of `logits` [n, k] row-major; the first maximum wins ties (like torch.argmax). */
export function argmaxRows(logits: Float32Array | Float64Array, classes: number): Int32Array {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`argmaxRows: ${classes} classes; expected ≥ 1`);
  }
  if (logits.length % classes !== 0) {
    throw new RangeError(`argmaxRows: ${logits.length} logits; expected a multiple of ${classes} classes`);
  }
  const n = logits.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let best = 0, bestValue = logits[o];
    for (let c = 1; c < classes; c++) {
      // A NaN logit never beats a number (an all-NaN row predicts class 0).
      if (logits[o + c] > bestValue || (Number.isNaN(bestValue) && !Number.isNaN(logits[o + c]))) {
        best = c;
        bestValue = logits[o + c];
      }
    }
    out[i] = best;
  }
  return out;
}

/** Fraction of predictions equal to the labels. */
export function accuracyFromPredictions(predictions: Int32Array, labels: Int32Array): number {
  if (predictions.length !== labels.length) {
    throw new RangeError(
      `accuracy: ${predictions.length} predictions for ${labels.length} labels; expected the same`,
    );
  }
  if (labels.length === 0) throw new RangeError("accuracy: no samples");
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) hits++;
  return hits / labels.length;
}

/** Accuracy of `logits` [n, k] against `labels` [n]. */
export function accuracy(logits: Float32Array | Float64Array, labels: Int32Array, classes: number): number {
  return accuracyFromPredictions(argmaxRows(logits, classes), labels);
}

/** Augmented accuracy over K draws: the mean and the sample sd (n − 1; 0 for K = 1, as in stats.ts). */
export interface AugmentedAccuracy {
  mean: number;
  sd: number;
  draws: number[];
}

/** Summarises the per-draw accuracies of K augmentation draws of the whole test set. */
export function augmentedAccuracy(perDraw: readonly number[]): AugmentedAccuracy {
  const k = perDraw.length;
  if (k === 0) throw new RangeError("augmentedAccuracy: no draws");
  for (const a of perDraw) {
    if (!(a >= 0 && a <= 1)) {
      throw new RangeError(`augmentedAccuracy: accuracy ${a}; expected a fraction in [0, 1]`);
    }
  }
  const mean = perDraw.reduce((s, a) => s + a, 0) / k;
  const ss = perDraw.reduce((s, a) => s + (a - mean) ** 2, 0);
  return { mean, sd: k > 1 ? Math.sqrt(ss / (k - 1)) : 0, draws: [...perDraw] };
}

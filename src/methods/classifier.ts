/**
 * The downstream classifiers C of docs/protocol.md ("Notation and defaults"): LC = linear (d', k),
 * NC = MLP (d', 4096, k), EC = MLP (d, 4096, 4096, k) on F directly (the same depth as C∘E with
 * C linear). Trained with softmax cross-entropy on clean features only, AdamW with weight decay
 * 0, lr 1e-3 annealed by a cosine schedule, 50 epochs of batch 256 by default. Minibatch order
 * comes from the stream (seed, "classifier", epoch) and the weights from (seed, "init",
 * "classifier", layer), so a seed fixes the whole run on a given backend.
 */
import { catalog, type ClassifierEntry } from "../catalog/entries.ts";
import { Mlp } from "../nn/mlp.ts";
import { trainStep } from "../nn/train_step.ts";
import { CounterRng } from "../rng/philox.ts";
import type { Backend } from "../tensor/backend.ts";
import { add, indexTensor, mul, softmaxCrossEntropy, tensor } from "../tensor/ops.ts";
import { type FeatureRows, memoryRows } from "../cache/feature_rows.ts";
import { AdamW, cosineLr } from "../tensor/optim.ts";
import { noGrad, type Tensor, tidy } from "../tensor/tensor.ts";
import { argmaxRows } from "../metrics/accuracy.ts";

export type ClassifierKind = "LC" | "NC" | "EC";

/** A matrix classifier kind (`classifiers[].kind`) and the protocol's network it names. */
export interface ClassifierCatalogEntry extends ClassifierEntry {
  readonly network: ClassifierKind;
}

/** The classifier kinds a matrix may name; the matrix schema and the runner read this list. */
export const CLASSIFIERS = catalog<ClassifierCatalogEntry, "kind">("classifier", "kind", [
  { kind: "linear", network: "LC", summary: "LC: linear (d', k) on the method's features" },
  { kind: "mlp", network: "NC", summary: "NC: MLP (d', 4096, k) on the method's features" },
  { kind: "ec", network: "EC", summary: "EC: MLP (d, 4096, 4096, k) on the backbone's features F" },
]);

/** The protocol's hidden width of NC and EC. */
export const CLASSIFIER_HIDDEN = 4096;

/** Layer sizes of each classifier kind on `inputDim` features and `classes` classes. */
export function classifierSizes(
  kind: ClassifierKind,
  inputDim: number,
  classes: number,
  hidden = CLASSIFIER_HIDDEN,
): number[] {
  switch (kind) {
    case "LC":
      return [inputDim, classes];
    case "NC":
      return [inputDim, hidden, classes];
    case "EC":
      return [inputDim, hidden, hidden, classes];
    default:
      throw new RangeError(`classifier: kind ${String(kind)}; expected LC, NC or EC`);
  }
}

export interface ClassifierOptions {
  kind: ClassifierKind;
  /** Feature columns: d' for LC and NC (adapter outputs), d for EC (backbone features). */
  inputDim: number;
  classes: number;
  seed: number;
  /** Where the weights live and the steps run (cpu or webgpu). */
  backend: Backend;
  /** Default 50 (protocol). */
  epochs?: number;
  /** Default 256 (protocol). The last batch of an epoch keeps the remainder (PyTorch's drop_last = false). */
  batchSize?: number;
  /** Peak learning rate, default 1e-3 (protocol). */
  lr?: number;
  /**
   * Floor of the cosine schedule, default 0: the protocol gives none for classifiers, and 0 is
   * PyTorch CosineAnnealingLR's default. The schedule advances every step, ending at the floor.
   */
  lrMin?: number;
  /** Hidden width of NC and EC, default 4096 (protocol); smaller only for tests and smoke runs. */
  hidden?: number;
  /** Name of the random streams for weights and minibatch order (default "classifier"). */
  name?: string;
  /** Rows per forward pass in `predict` (default 1024). */
  predictBatch?: number;
  /** Called after every epoch with its mean training loss (progress display). */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

/** What training cost and how it went. */
export interface ClassifierTraining {
  kind: ClassifierKind;
  sizes: number[];
  trainableParameters: number;
  epochs: number;
  steps: number;
  /** Mean training loss of each completed epoch. */
  epochLoss: number[];
  /** True when a loss became NaN or infinite; training stopped at that epoch. */
  diverged: boolean;
  /** Wall time of training, upload of the features to the backend included. */
  trainSeconds: number;
}

export interface Prediction {
  /** [n, k] row-major. */
  logits: Float32Array;
  /** Argmax class of each row (first maximum on ties). */
  labels: Int32Array;
}

/** Checks `values` feature values (rows of `dim`) and their labels; returns the row count. */
function checkInputs(
  values: number,
  labels: Int32Array | null,
  dim: number,
  classes: number,
): number {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`classifier: inputDim ${dim}; expected a positive integer`);
  }
  if (values % dim !== 0) {
    throw new RangeError(`classifier: ${values} feature values; expected a multiple of inputDim ${dim}`);
  }
  const n = values / dim;
  if (labels) {
    if (labels.length !== n) {
      throw new RangeError(`classifier: ${labels.length} labels for ${n} rows; expected one per row`);
    }
    for (let i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new RangeError(
          `classifier: label ${labels[i]} at row ${i}; expected a class in [0, ${classes})`,
        );
      }
    }
  }
  return n;
}

/** A trained classifier on one backend; `dispose` frees its weights. */
export class Classifier {
  private constructor(
    readonly options: Readonly<ClassifierOptions>,
    readonly network: Mlp,
    readonly training: ClassifierTraining,
  ) {}

  /**
   * Trains a fresh classifier on clean `features` [n, inputDim] (row-major; an array, or rows read
   * on demand: a step reads its batch) with `labels` [n].
   */
  static async train(
    features: Float32Array | FeatureRows,
    labels: Int32Array,
    options: ClassifierOptions,
  ): Promise<Classifier> {
    const { kind, inputDim, classes, seed, backend } = options;
    const epochs = options.epochs ?? 50, batch = options.batchSize ?? 256;
    const lr = options.lr ?? 1e-3, lrMin = options.lrMin ?? 0;
    if (!Number.isInteger(classes) || classes < 2) {
      throw new RangeError(`classifier: ${classes} classes; expected ≥ 2`);
    }
    if (!Number.isInteger(epochs) || epochs < 0) {
      throw new RangeError(`classifier: ${epochs} epochs; expected an integer ≥ 0`);
    }
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`classifier: batch ${batch}; expected an integer ≥ 1`);
    }
    const values = features instanceof Float32Array ? features.length : features.rows * features.cols;
    const n = checkInputs(values, labels, inputDim, classes);
    const rows = features instanceof Float32Array ? memoryRows(features, inputDim) : features;
    if (rows.cols !== inputDim) {
      throw new RangeError(`classifier: ${rows.cols} feature columns; expected inputDim ${inputDim}`);
    }
    if (n === 0) throw new RangeError("classifier: no training rows");

    const started = performance.now();
    const sizes = classifierSizes(kind, inputDim, classes, options.hidden);
    const network = new Mlp(sizes, seed, options.name ?? "classifier", backend);
    const opt = new AdamW(network.parameters, { lr, weightDecay: 0 });
    // One batch's rows, reused step after step (FeatureRows.read).
    const xBuffer = new Float32Array(Math.min(batch, n) * inputDim);
    const stepsPerEpoch = Math.ceil(n / batch), totalSteps = epochs * stepsPerEpoch;
    const epochLoss: number[] = [];
    let step = 0, diverged = false;
    try {
      for (let epoch = 0; epoch < epochs && !diverged; epoch++) {
        const perm = new CounterRng(seed, options.name ?? "classifier", epoch).permutation(n);
        // The epoch's loss is summed on the device and read once: a read per step would
        // serialise a WebGPU queue.
        let lossSum: Tensor | null = null;
        for (let b0 = 0; b0 < n; b0 += batch) {
          const batchRows = perm.subarray(b0, Math.min(n, b0 + batch));
          // A loop, not Int32Array.from with a map (14× slower: the classifiers take ~10^5 steps a run).
          const y = new Int32Array(batchRows.length);
          for (let i = 0; i < y.length; i++) y[i] = labels[batchRows[i]];
          const xb = rows.read(batchRows, xBuffer);
          const loss = trainStep(
            opt,
            () =>
              softmaxCrossEntropy(
                network.forward(tensor(xb, [batchRows.length, inputDim], { backend })),
                indexTensor(y, undefined, backend),
              ),
            cosineLr(step++, totalSteps, lr, lrMin),
          );
          const prev: Tensor | null = lossSum;
          lossSum = tidy(() => (prev ? add(prev, mul(loss, batchRows.length)) : mul(loss, batchRows.length)));
          prev?.dispose();
          loss.dispose();
        }
        const mean = (await lossSum!.item()) / n;
        lossSum!.dispose();
        epochLoss.push(mean);
        if (!Number.isFinite(mean)) diverged = true;
        options.onEpoch?.(epoch, mean);
      }
      await backend.sync();
    } catch (e) {
      network.dispose();
      throw e;
    } finally {
      opt.dispose();
    }
    const training: ClassifierTraining = {
      kind,
      sizes,
      trainableParameters: network.parameterCount,
      epochs: epochLoss.length,
      steps: step,
      epochLoss,
      diverged,
      trainSeconds: (performance.now() - started) / 1000,
    };
    return new Classifier({ ...options }, network, training);
  }

  get trainableParameters(): number {
    return this.training.trainableParameters;
  }

  /** Logits and predicted classes of `features` [n, inputDim], `batch` rows per forward pass. */
  async predict(features: Float32Array, batch = this.options.predictBatch ?? 1024): Promise<Prediction> {
    const { inputDim, classes, backend } = this.options;
    const n = checkInputs(features.length, null, inputDim, classes);
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`classifier: predict batch ${batch}; expected an integer ≥ 1`);
    }
    const logits = new Float32Array(n * classes);
    for (let r0 = 0; r0 < n; r0 += batch) {
      const r1 = Math.min(n, r0 + batch);
      const out = tidy(() =>
        noGrad(() =>
          this.network.forward(
            tensor(features.subarray(r0 * inputDim, r1 * inputDim), [r1 - r0, inputDim], { backend }),
          )
        )
      );
      try {
        logits.set(await out.toArray(), r0 * classes);
      } finally {
        out.dispose();
      }
    }
    return { logits, labels: argmaxRows(logits, classes) };
  }

  dispose(): void {
    this.network.dispose();
  }
}

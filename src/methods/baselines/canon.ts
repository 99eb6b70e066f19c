/**
 * `canon` (PROTOCOL.md, after the canonicalisation paper, at the latent level): the steering maps
 * of `steer` (one per transform bin, fitted the same way) plus a head on F that predicts which bin
 * an input's transform fell in; the predicted bin's map then undoes it. No oracle at test time.
 *
 * The head: an MLP (d, head_hidden, classes) with ReLU, or linear (d, classes) when head_hidden
 * is 0, trained with the tensor core (softmax cross-entropy, AdamW lr 1e-3 with a cosine schedule
 * to 0, weight decay 0, batch 256, `head_epochs` epochs; weights from (seed, "init", "canon-head",
 * layer), minibatch order from (seed, "canon-head", epoch)) on the clean train features labelled
 * with the clean inputs' class and the train views 0..views−1 labelled with their known bins: the
 * clean rows are a prior toward the identity. classes = the bins, plus one "clean" class (identity
 * map) when the identity is not in the augmentation's family (noise, crops; bins.ts).
 *
 * Every input goes through the map of its predicted bin: the classifier's train set (clean train
 * features), the clean and augmented test inputs, and E for the structure metrics. Extra metrics:
 * canon_bin_acc, the head's bin accuracy on the augmented test draws (mean over the draws, true
 * bins from the known parameters), and canon_bin_acc_clean, the fraction of clean test inputs it
 * assigns to the clean inputs' class. Cost: views + 1 backbone passes per train input, 1 per test
 * input plus the head and a matrix-vector product; parameters: the maps' and the head's.
 */
import { Mlp } from "../../nn/mlp.ts";
import { trainStep } from "../../nn/train_step.ts";
import { CounterRng } from "../../rng/philox.ts";
import type { Backend } from "../../tensor/backend.ts";
import { add, gatherRows, indexTensor, mul, softmaxCrossEntropy, tensor } from "../../tensor/ops.ts";
import { AdamW, cosineLr } from "../../tensor/optim.ts";
import { noGrad, type Tensor, tidy } from "../../tensor/tensor.ts";
import { argmaxRows } from "../../metrics/accuracy.ts";
import type { FittedMethod, MethodRunner } from "../method.ts";
import { transformBins } from "./bins.ts";
import { concatRows, secondsSince, viewParamsOf } from "./common.ts";
import { applyMaps } from "./ridge.ts";
import { fitSteeringMaps, trainViews } from "./steer.ts";

export interface HeadOptions {
  inputDim: number;
  classes: number;
  /** Hidden width; 0 for a linear head. */
  hidden: number;
  epochs: number;
  seed: number;
  backend: Backend;
  batch?: number;
  lr?: number;
}

/** A trained bin classifier; `dispose` frees its weights. */
export interface BinHead {
  network: Mlp;
  parameters: number;
  /** Mean loss of each epoch; training stops at the first non-finite one. */
  epochLoss: number[];
  diverged: boolean;
  predict(x: Float32Array): Promise<Int32Array>;
  dispose(): void;
}

/** Trains the head on rows x [n, inputDim] with classes y [n]. */
export async function trainBinHead(x: Float32Array, y: Int32Array, o: HeadOptions): Promise<BinHead> {
  const { inputDim, classes, backend, seed } = o;
  const batch = o.batch ?? 256, lr = o.lr ?? 1e-3, n = y.length;
  if (x.length !== n * inputDim) throw new RangeError(`canon head: ${x.length} values for ${n} rows`);
  const sizes = o.hidden > 0 ? [inputDim, o.hidden, classes] : [inputDim, classes];
  const network = new Mlp(sizes, seed, "canon-head", backend);
  const opt = new AdamW(network.parameters, { lr, weightDecay: 0 });
  const xt = tensor(x, [n, inputDim], { backend });
  const totalSteps = o.epochs * Math.ceil(n / batch);
  const epochLoss: number[] = [];
  let step = 0, diverged = false;
  try {
    for (let epoch = 0; epoch < o.epochs && !diverged; epoch++) {
      const perm = new CounterRng(seed, "canon-head", epoch).permutation(n);
      let lossSum: Tensor | null = null;
      for (let b0 = 0; b0 < n; b0 += batch) {
        const rows = perm.subarray(b0, Math.min(n, b0 + batch));
        const labels = Int32Array.from(rows, (r) => y[r]);
        const loss = trainStep(
          opt,
          () =>
            softmaxCrossEntropy(
              network.forward(gatherRows(xt, indexTensor(rows, undefined, backend))),
              indexTensor(labels, undefined, backend),
            ),
          cosineLr(step++, totalSteps, lr, 0),
        );
        const prev: Tensor | null = lossSum;
        lossSum = tidy(() => (prev ? add(prev, mul(loss, rows.length)) : mul(loss, rows.length)));
        prev?.dispose();
        loss.dispose();
      }
      const mean = (await lossSum!.item()) / n;
      lossSum!.dispose();
      epochLoss.push(mean);
      if (!Number.isFinite(mean)) diverged = true;
    }
    await backend.sync();
  } catch (e) {
    network.dispose();
    throw e;
  } finally {
    xt.dispose();
    opt.dispose();
  }
  return {
    network,
    parameters: network.parameterCount,
    epochLoss,
    diverged,
    predict: async (features) => {
      const rows = features.length / inputDim, logits = new Float32Array(rows * classes);
      for (let r0 = 0; r0 < rows; r0 += 1024) {
        const r1 = Math.min(rows, r0 + 1024);
        const out = tidy(() =>
          noGrad(() =>
            network.forward(
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
      return argmaxRows(logits, classes);
    },
    dispose: () => network.dispose(),
  };
}

export const canon: MethodRunner = async (method, f): Promise<FittedMethod> => {
  if (method.kind !== "canon") throw new Error(`canon runner given a ${method.kind} method`);
  const bins = transformBins(f.augmentation, method.bins);
  const clean = await f.clean("train");
  const pool = await trainViews(f, method.id, method.views, bins);
  const s = fitSteeringMaps(pool, clean, f.d, bins, method.ridge);
  const started = performance.now();
  const n = f.labels.train.length, classes = s.maps.length;
  const headY = new Int32Array(n + pool.bin.length);
  headY.fill(s.cleanMap, 0, n);
  headY.set(pool.bin, n);
  const head = await trainBinHead(concatRows([clean, pool.x]), headY, {
    inputDim: f.d,
    classes,
    hidden: method.head_hidden,
    epochs: method.head_epochs,
    seed: f.seed,
    backend: f.backend,
  });
  try {
    const canonicalise = async (x: Float32Array) => {
      const bin = await head.predict(x);
      return { bin, x: applyMaps(s.maps, x, (r) => bin[r]) };
    };
    const trainX = (await canonicalise(clean)).x;
    const fitSeconds = s.fitSeconds + secondsSince(started);

    // The test representations, computed once: the head's bin accuracy needs all of them.
    const cleanTest = await canonicalise(await f.clean("test"));
    const views: Float32Array[] = [];
    let correct = 0, total = 0;
    for (let k = 0; k < f.testDraws; k++) {
      const c = await canonicalise(await f.augmented("test", k));
      const params = viewParamsOf(f, method.id, "test", k);
      c.bin.forEach((b, r) => (correct += b === bins.binOf(params[r]) ? 1 : 0));
      total += c.bin.length;
      views.push(c.x);
    }
    const cleanHits = cleanTest.bin.reduce((acc, b) => acc + (b === s.cleanMap ? 1 : 0), 0);
    return {
      status: head.diverged ? "diverged" : "ok",
      ...(head.diverged ? { reason: "the canon head's cross-entropy became non-finite" } : {}),
      flags: [],
      trainSet: { x: trainX, labels: f.labels.train, dim: f.d },
      represent: async (view) => {
        if (view === "clean") return cleanTest.x;
        return views[view] ?? (await canonicalise(await f.augmented("test", view))).x;
      },
      embed: async (features) => (await canonicalise(features)).x,
      metrics: {
        canon_bin_acc: total ? correct / total : null,
        canon_bin_acc_clean: cleanTest.bin.length ? cleanHits / cleanTest.bin.length : null,
      },
      cost: {
        backbone_passes_train: method.views + 1,
        backbone_passes_test: 1,
        trainable_parameters: s.parameters + head.parameters,
      },
      fitSeconds,
      dispose: () => head.dispose(),
    };
  } catch (e) {
    head.dispose();
    throw e;
  }
};

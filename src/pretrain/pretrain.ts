/**
 * Pretrains a fixture backbone (src/backbone/fixture_cnn.ts) on clean, unaugmented train images
 * with the tensor core's CPU backend, exports its feature extractor to ONNX, checks the export
 * against the tensor-core forward, and measures the clean and rotated linear probes.
 *
 *   deno task pretrain [--dataset mnist|fashion-mnist] [--epochs E] [--seed S] [--out PATH.onnx]
 *                      [--batch-size B] [--lr LR] [--min-lr LR] [--weight-decay WD] [--no-probe]
 *
 * Writes PATH.onnx, PATH.onnx.sha256 (sha256sum format) and PATH.log.json (the recipe, one row per
 * epoch with loss, train accuracy, test accuracy and seconds, the export check and the probes).
 * Default PATH: fixtures/backbones/<dataset>.onnx.
 *
 * Everything random is keyed by the seed: the initialisation by (seed, "init", "fixture_cnn", …),
 * the minibatch order of epoch e by CounterRng(seed, "pretrain", dataset, "epoch", e).permutation.
 * Training on one machine is deterministic (the CPU backend's ops are); across machines GEMM
 * rounding may differ, so a retrained model matches the committed one closely, not bit for bit.
 */
import { sha256Hex } from "../util/hash.ts";
import { basename, dirname } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { FIXTURE_CNN, FixtureCnn } from "../backbone/fixture_cnn.ts";
import { FIXTURE_INPUT, FIXTURE_OUTPUT, fixtureCnnToOnnx } from "../backbone/onnx_export.ts";
import { CpuBackend } from "../tensor/backends/cpu.ts";
import { grad } from "../tensor/autograd.ts";
import { indexTensor, softmaxCrossEntropy, tensor } from "../tensor/ops.ts";
import { AdamW, cosineLr } from "../tensor/optim.ts";
import { noGrad, setBackend, tidy } from "../tensor/tensor.ts";
import { CounterRng } from "../rng/philox.ts";
import {
  FIXTURE_DATASETS,
  type FixtureDatasetName,
  loadFixtureDataset,
  NORMALISATION,
  normalise,
  pixelStats,
} from "./data.ts";
import { type ProbeCheck, probeCheck } from "./quality.ts";

const PIXELS = FIXTURE_CNN.imageSize * FIXTURE_CNN.imageSize;

export interface PretrainOptions {
  dataset: FixtureDatasetName;
  epochs: number;
  seed: number;
  batchSize: number;
  /** Peak learning rate, cosine-annealed per step to `minLr`. */
  lr: number;
  minLr: number;
  weightDecay: number;
  /** Output model path (…/name.onnx). */
  out: string;
  /** Run the linear-probe checks after export. */
  probe: boolean;
  /** Rotation draws for the rotated probe. */
  probeDraws: number;
}

export const DEFAULTS: Omit<PretrainOptions, "dataset" | "out"> = {
  epochs: 3,
  seed: 0,
  batchSize: 128,
  lr: 2e-3,
  minLr: 1e-5,
  weightDecay: 1e-4,
  probe: true,
  probeDraws: 5,
};

export interface EpochLog {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Accuracy on the epoch's training minibatches, as the model was at each step. */
  trainAcc: number;
  /** Accuracy of the training head on the clean test split after the epoch. */
  testAcc: number;
  seconds: number;
}

export interface ExportCheck {
  images: number;
  maxAbsDiff: number;
  maxAbsFeature: number;
  /** maxAbsDiff / maxAbsFeature. */
  relError: number;
}

export interface PretrainLog {
  format: "invbench.pretrain-log/v1";
  command: string;
  dataset: FixtureDatasetName;
  dataContentHash: { train: string; test: string };
  trainImages: number;
  testImages: number;
  normalisation: { mean: number; std: number };
  /** The train pixels' measured statistics (values / 255), for the record. */
  measuredPixelStats: { mean: number; std: number };
  architecture: string;
  parameters: { total: number; exported: number };
  options: Omit<PretrainOptions, "out" | "probe" | "probeDraws">;
  optimiser: string;
  backend: string;
  epochs: EpochLog[];
  trainSeconds: number;
  onnx: { file: string; bytes: number; sha256: string };
  exportCheck: ExportCheck;
  probe: ProbeCheck | null;
}

function argmaxRows(logits: Float32Array, k: number): Int32Array {
  const n = logits.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < k; c++) if (logits[i * k + c] > best) [best, arg] = [logits[i * k + c], c];
    out[i] = arg;
  }
  return out;
}

/** Tensor-core forward of normalised images [n, 784] in batches: features or head logits. */
export async function forwardBatches(
  model: FixtureCnn,
  x: Float32Array,
  what: "features" | "logits",
  batch = 500,
): Promise<Float32Array> {
  const n = x.length / PIXELS;
  const d = what === "features" ? FIXTURE_CNN.featureDim : FIXTURE_CNN.classes;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const y = noGrad(() =>
      tidy(() => {
        const xb = tensor(x.subarray(i * PIXELS, (i + m) * PIXELS), [m, PIXELS]);
        return what === "features" ? model.features(xb) : model.logits(xb);
      })
    );
    out.set(await y.toArray(), i * d);
    y.dispose();
  }
  return out;
}

/** Trains, exports and checks one fixture backbone; returns the log it also writes. */
export async function pretrain(
  opts: PretrainOptions,
  log: (line: string) => void = console.log,
): Promise<PretrainLog> {
  const backend = new CpuBackend();
  setBackend(backend);
  const norm = NORMALISATION[opts.dataset];
  const { train, test } = loadFixtureDataset(opts.dataset);
  const measured = pixelStats(train.images);
  log(
    `${opts.dataset}: ${train.n} train / ${test.n} test images; normalisation mean ${norm.mean} std ${norm.std} ` +
      `(measured ${measured.mean.toFixed(6)} / ${measured.std.toFixed(6)})`,
  );
  const xTrain = normalise(train.images, norm);
  const xTest = normalise(test.images, norm);

  const model = new FixtureCnn(opts.seed, backend);
  const opt = new AdamW(model.parameters, { lr: opts.lr, weightDecay: opts.weightDecay });
  const stepsPerEpoch = Math.ceil(train.n / opts.batchSize);
  const totalSteps = opts.epochs * stepsPerEpoch;
  log(
    `model: ${model.parameterCount} parameters; ${opts.epochs} epochs × ${stepsPerEpoch} steps of ${opts.batchSize}`,
  );

  const epochs: EpochLog[] = [];
  const tTrain = performance.now();
  const xb = new Float32Array(opts.batchSize * PIXELS);
  for (let e = 0; e < opts.epochs; e++) {
    const t0 = performance.now();
    const perm = new CounterRng(opts.seed, "pretrain", opts.dataset, "epoch", e).permutation(train.n);
    let lossSum = 0, correct = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const rows = perm.subarray(s * opts.batchSize, Math.min(train.n, (s + 1) * opts.batchSize));
      const m = rows.length;
      for (let i = 0; i < m; i++) {
        xb.set(xTrain.subarray(rows[i] * PIXELS, (rows[i] + 1) * PIXELS), i * PIXELS);
      }
      const labels = Int32Array.from(rows, (r) => train.labels[r]);
      const lr = cosineLr(e * stepsPerEpoch + s, totalSteps, opts.lr, opts.minLr);
      const out = tidy(() => {
        const logits = model.logits(tensor(xb.subarray(0, m * PIXELS), [m, PIXELS]));
        const loss = softmaxCrossEntropy(logits, indexTensor(labels, [m, 1]));
        opt.step(grad(loss, opt.params), lr);
        for (const t of [loss, logits]) {
          t.node = null;
          t.requiresGrad = false;
        }
        return { loss, logits };
      });
      const loss = (await out.loss.toArray())[0];
      const pred = argmaxRows(await out.logits.toArray(), FIXTURE_CNN.classes);
      out.loss.dispose();
      out.logits.dispose();
      if (!Number.isFinite(loss)) throw new Error(`pretrain: loss ${loss} at epoch ${e + 1}, step ${s + 1}`);
      lossSum += loss * m;
      for (let i = 0; i < m; i++) if (pred[i] === labels[i]) correct++;
      if ((s + 1) % 100 === 0) {
        const sec = (performance.now() - t0) / 1000;
        log(
          `  epoch ${e + 1} step ${s + 1}/${stepsPerEpoch}: loss ${loss.toFixed(4)}, lr ${
            lr.toExponential(2)
          }, ${sec.toFixed(1)} s`,
        );
      }
    }
    const testPred = argmaxRows(await forwardBatches(model, xTest, "logits"), FIXTURE_CNN.classes);
    let testCorrect = 0;
    for (let i = 0; i < test.n; i++) if (testPred[i] === test.labels[i]) testCorrect++;
    const row: EpochLog = {
      epoch: e + 1,
      loss: lossSum / train.n,
      trainAcc: correct / train.n,
      testAcc: testCorrect / test.n,
      seconds: (performance.now() - t0) / 1000,
    };
    epochs.push(row);
    log(
      `epoch ${row.epoch}: loss ${row.loss.toFixed(4)}, train acc ${row.trainAcc.toFixed(4)}, ` +
        `test acc ${row.testAcc.toFixed(4)}, ${row.seconds.toFixed(1)} s`,
    );
  }
  const trainSeconds = (performance.now() - tTrain) / 1000;

  // ---- export and check -----------------------------------------------------------------
  const weights = await model.weights();
  const command =
    `deno task pretrain --dataset ${opts.dataset} --epochs ${opts.epochs} --seed ${opts.seed} --out ${opts.out}` +
    (opts.batchSize !== DEFAULTS.batchSize ? ` --batch-size ${opts.batchSize}` : "") +
    (opts.lr !== DEFAULTS.lr ? ` --lr ${opts.lr}` : "") +
    (opts.minLr !== DEFAULTS.minLr ? ` --min-lr ${opts.minLr}` : "") +
    (opts.weightDecay !== DEFAULTS.weightDecay ? ` --weight-decay ${opts.weightDecay}` : "");
  const bytes = fixtureCnnToOnnx(weights, {
    dataset: opts.dataset,
    "input.layout": "NCHW",
    "input.mean": String(norm.mean),
    "input.std": String(norm.std),
    "test.accuracy": epochs[epochs.length - 1].testAcc.toFixed(4),
    recipe: command,
  });
  await Deno.mkdir(dirname(opts.out), { recursive: true });
  await Deno.writeFile(opts.out, bytes);
  const hash = sha256Hex(bytes);
  await Deno.writeTextFile(`${opts.out}.sha256`, `${hash}  ${basename(opts.out)}\n`);
  log(`wrote ${opts.out} (${bytes.length} bytes, sha256 ${hash})`);

  const exportCheck = await checkExport(model, opts.out, xTest.subarray(0, 256 * PIXELS));
  log(
    `export check on 256 test images: max |onnx − tensor core| ${
      exportCheck.maxAbsDiff.toExponential(2)
    }, relative ${exportCheck.relError.toExponential(2)}`,
  );
  if (!(exportCheck.relError < 1e-4)) {
    throw new Error(`pretrain: the ONNX export differs from the tensor core by ${exportCheck.relError}`);
  }
  model.dispose();
  opt.dispose();

  let probe: ProbeCheck | null = null;
  if (opts.probe) {
    probe = await probeCheck({
      onnx: opts.out,
      dataset: opts.dataset,
      draws: opts.probeDraws,
      seed: opts.seed,
    });
    log(
      `linear probe (${probe.trainImages} clean train features): clean test ${
        probe.clean.toFixed(4)
      }, rotated ±180° ` +
        `${probe.rotatedMean.toFixed(4)} ± ${
          probe.rotatedSd.toFixed(4)
        } over ${probe.rotated.length} draws (${probe.seconds.toFixed(1)} s)`,
    );
  }

  const { out: _out, probe: _probe, probeDraws: _draws, ...recipe } = opts;
  const result: PretrainLog = {
    format: "invbench.pretrain-log/v1",
    command,
    dataset: opts.dataset,
    dataContentHash: { train: train.contentHash, test: test.contentHash },
    trainImages: train.n,
    testImages: test.n,
    normalisation: norm,
    measuredPixelStats: measured,
    architecture:
      "conv5x5(1→32) relu maxpool2 conv5x5(32→64) relu maxpool2 flatten gemm(1024→128) = features; " +
      "pretraining head: relu linear(128→10)",
    parameters: {
      total: model.parameterCount,
      exported: model.featureParameters.reduce((s, p) => s + p.size, 0),
    },
    options: recipe,
    optimiser:
      `AdamW(lr ${opts.lr}, betas 0.9/0.999, eps 1e-8, weight decay ${opts.weightDecay}), cosine per step to ${opts.minLr}`,
    backend: `cpu (${backend.device})`,
    epochs,
    trainSeconds,
    onnx: { file: basename(opts.out), bytes: bytes.length, sha256: hash },
    exportCheck,
    probe,
  };
  const logPath = opts.out.replace(/\.onnx$/, "") + ".log.json";
  await Deno.writeTextFile(logPath, JSON.stringify(result, null, 2) + "\n");
  log(`wrote ${logPath}`);
  return result;
}

/** Runs the ONNX file on `x` with onnxruntime and compares with the tensor-core features. */
export async function checkExport(
  model: FixtureCnn,
  onnxPath: string,
  x: Float32Array,
): Promise<ExportCheck> {
  const n = x.length / PIXELS;
  const want = await forwardBatches(model, x, "features");
  const session = await ort.InferenceSession.create(onnxPath);
  try {
    const s = FIXTURE_CNN.imageSize;
    const res = await session.run({ [FIXTURE_INPUT]: new ort.Tensor("float32", x, [n, 1, s, s]) });
    const got = res[FIXTURE_OUTPUT].data as Float32Array;
    let maxAbsDiff = 0, maxAbsFeature = 0;
    for (let i = 0; i < want.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - want[i]));
      maxAbsFeature = Math.max(maxAbsFeature, Math.abs(want[i]));
    }
    return { images: n, maxAbsDiff, maxAbsFeature, relError: maxAbsDiff / maxAbsFeature };
  } finally {
    await session.release();
  }
}

/** Parses the command line; throws a RangeError naming a bad flag. */
export function parsePretrainArgs(args: string[]): PretrainOptions {
  const { values } = parseArgs({
    args,
    options: {
      dataset: { type: "string", default: "mnist" },
      epochs: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      "batch-size": { type: "string" },
      lr: { type: "string" },
      "min-lr": { type: "string" },
      "weight-decay": { type: "string" },
      "probe-draws": { type: "string" },
      "no-probe": { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const dataset = values.dataset as FixtureDatasetName;
  if (!FIXTURE_DATASETS.includes(dataset)) {
    throw new RangeError(`--dataset ${values.dataset}: expected one of ${FIXTURE_DATASETS.join(", ")}`);
  }
  const num = (flag: string, v: string | undefined, def: number, integer: boolean, min: number): number => {
    if (v === undefined) return def;
    const x = Number(v);
    if (!Number.isFinite(x) || (integer && !Number.isSafeInteger(x)) || x < min) {
      throw new RangeError(`--${flag} ${v}: expected ${integer ? "an integer" : "a number"} ≥ ${min}`);
    }
    return x;
  };
  return {
    dataset,
    epochs: num("epochs", values.epochs, DEFAULTS.epochs, true, 1),
    seed: num("seed", values.seed, DEFAULTS.seed, true, 0),
    batchSize: num("batch-size", values["batch-size"], DEFAULTS.batchSize, true, 1),
    lr: num("lr", values.lr, DEFAULTS.lr, false, 0),
    minLr: num("min-lr", values["min-lr"], DEFAULTS.minLr, false, 0),
    weightDecay: num("weight-decay", values["weight-decay"], DEFAULTS.weightDecay, false, 0),
    probeDraws: num("probe-draws", values["probe-draws"], DEFAULTS.probeDraws, true, 1),
    probe: !values["no-probe"],
    out: values.out ?? `fixtures/backbones/${dataset}.onnx`,
  };
}

if (import.meta.main) {
  let opts: PretrainOptions;
  try {
    opts = parsePretrainArgs(Deno.args);
  } catch (e) {
    console.error(`pretrain: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
  await pretrain(opts);
}

/**
 * The fixture backbones' acceptance checks, run on the exported ONNX model (the artefact the
 * benchmark uses) with onnxruntime-node:
 *  - clean probe: a linear probe trained on clean train features, accuracy on clean test images;
 *  - rotated probe: the same probe on test images rotated by angles uniform in [−180°, 180°], made
 *    by the harness's own augmentation (src/augment: `augmentBatch` with kind "rotation", bilinear
 *    about the centre, fill 0 in raw pixel space, then normalised; view k of image i drawn from
 *    CounterRng(seed, "augment", "test", sourceIndex[i], k)), averaged over `draws` views.
 * A good fixture is accurate on clean data and clearly NOT rotation-invariant.
 */
import * as ort from "onnxruntime-node";
import { FIXTURE_CNN } from "../backbone/fixture_cnn.ts";
import { FIXTURE_INPUT, FIXTURE_OUTPUT } from "../backbone/onnx_export.ts";
import { type FixtureDatasetName, loadFixtureDataset, NORMALISATION, normalise } from "./data.ts";
import { fitLinearProbe, probeAccuracy, type ProbeOptions } from "./probe.ts";
import { augmentBatch } from "../augment/augment.ts";

const S = FIXTURE_CNN.imageSize;

/** Features [n, 128] of normalised images `x` [n, 28·28] through an ONNX fixture, in batches. */
export async function onnxFeatures(
  session: ort.InferenceSession,
  x: Float32Array,
  batch = 1000,
): Promise<Float32Array> {
  const n = x.length / (S * S);
  const d = FIXTURE_CNN.featureDim;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const input = new ort.Tensor("float32", x.subarray(i * S * S, (i + m) * S * S), [m, 1, S, S]);
    const result = await session.run({ [FIXTURE_INPUT]: input }, [FIXTURE_OUTPUT]);
    out.set(result[FIXTURE_OUTPUT].data as Float32Array, i * d);
    input.dispose();
    result[FIXTURE_OUTPUT].dispose();
  }
  return out;
}

export interface ProbeCheckOptions {
  /** Path of the ONNX fixture. */
  onnx: string;
  dataset: FixtureDatasetName;
  /** Class-stratified subsets (seed 0); default the whole split. */
  trainLimit?: number;
  testLimit?: number;
  /** Rotation draws of the test set to average (default 1). */
  draws?: number;
  /** Seed of the rotation angles and the probe's minibatches (default 0). */
  seed?: number;
  probe?: ProbeOptions;
}

export interface ProbeCheck {
  dataset: FixtureDatasetName;
  trainImages: number;
  testImages: number;
  /** Clean test accuracy of the linear probe. */
  clean: number;
  /** Accuracy on rotated test images, one per draw, and their mean and sample sd. */
  rotated: number[];
  rotatedMean: number;
  rotatedSd: number;
  probe: Required<Omit<ProbeOptions, "backend">>;
  seconds: number;
}

/** Runs the clean and rotated linear-probe checks on an ONNX fixture (tensor-core backend must be set). */
export async function probeCheck(opts: ProbeCheckOptions): Promise<ProbeCheck> {
  const t0 = performance.now();
  const seed = opts.seed ?? 0, draws = opts.draws ?? 1;
  const norm = NORMALISATION[opts.dataset];
  const { train, test } = loadFixtureDataset(opts.dataset, {
    train: opts.trainLimit ? { limit: opts.trainLimit, stratified_seed: 0 } : {},
    test: opts.testLimit ? { limit: opts.testLimit, stratified_seed: 0 } : {},
  });
  const session = await ort.InferenceSession.create(opts.onnx);
  try {
    const trainFeatures = await onnxFeatures(session, normalise(train.images, norm));
    const probeOpts = {
      epochs: opts.probe?.epochs ?? 20,
      batchSize: opts.probe?.batchSize ?? 256,
      lr: opts.probe?.lr ?? 1e-2,
      minLr: opts.probe?.minLr ?? 1e-4,
      seed,
    };
    const probe = await fitLinearProbe(trainFeatures, train.labels, train.classes, {
      ...probeOpts,
      backend: opts.probe?.backend,
    });
    const clean = probeAccuracy(
      probe,
      await onnxFeatures(session, normalise(test.images, norm)),
      test.labels,
    );
    const rotated: number[] = [];
    for (let k = 0; k < draws; k++) {
      const x = augmentBatch(
        { data: test.images, n: test.n, channels: 1, height: S, width: S },
        test.sourceIndex,
        { kind: "rotation", degrees: [-180, 180] },
        seed,
        "test",
        k,
        { normalize: norm, fill: 0 },
      );
      rotated.push(probeAccuracy(probe, await onnxFeatures(session, x), test.labels));
    }
    const rotatedMean = rotated.reduce((a, b) => a + b, 0) / draws;
    const rotatedSd = draws > 1
      ? Math.sqrt(rotated.reduce((a, b) => a + (b - rotatedMean) ** 2, 0) / (draws - 1))
      : 0;
    return {
      dataset: opts.dataset,
      trainImages: train.n,
      testImages: test.n,
      clean,
      rotated,
      rotatedMean,
      rotatedSd,
      probe: probeOpts,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await session.release();
  }
}

/**
 * `canon` (docs/protocol.md, after the canonicalisation paper, at the latent level): the steering maps
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
import { Classifier } from "../classifier.ts";
import { type CellFeatures, defineMethod, type FittedMethod, type MethodOf } from "../method.ts";
import { transformBins } from "../../augment/spec.ts";
import { concatRows, secondsSince, viewParamsOf } from "./common.ts";
import { applyMaps } from "./ridge.ts";
import { fitSteeringMaps, trainViews } from "./steer.ts";

const options = {
  bins: { description: "bins of the transform parameter, one map each", default: 8, integer: true, min: 1 },
  ridge: {
    description: "ridge λ relative to the mean per-dimension variance of the inputs of each map",
    default: 1e-2,
    min: 0,
    exclusiveMin: true,
  },
  views: {
    description:
      "augmented train views 0..views−1 the maps and the head are fitted on (default: the view budget)",
    viewBudget: true,
    integer: true,
    min: 1,
  },
  head_hidden: {
    description: "hidden width of the bin-predicting head (d, hidden, bins); 0: a linear head",
    default: 256,
    integer: true,
    min: 0,
  },
  head_epochs: {
    description: "epochs of the head (AdamW, lr 1e-3 cosine to 0, batch 256, weight decay 0)",
    default: 20,
    integer: true,
    min: 1,
  },
} as const;

async function run(method: MethodOf<typeof options>, f: CellFeatures): Promise<FittedMethod> {
  const bins = transformBins(f.augmentation, method.bins);
  const clean = await f.clean("train");
  const pool = await trainViews(f, method.id, method.views, bins);
  const s = fitSteeringMaps(pool, clean, f.d, bins, method.ridge);
  const started = performance.now();
  const n = f.labels.train.length, classes = s.maps.length;
  const headY = new Int32Array(n + pool.bin.length);
  headY.fill(s.cleanMap, 0, n);
  headY.set(pool.bin, n);
  // The head is a classifier of transform bins on its own random streams.
  const head = await Classifier.train(concatRows([clean, pool.x]), headY, {
    kind: method.head_hidden > 0 ? "NC" : "LC",
    hidden: method.head_hidden,
    inputDim: f.d,
    classes,
    epochs: method.head_epochs,
    seed: f.seed,
    backend: f.backend,
    name: "canon-head",
  });
  try {
    const canonicalise = async (x: Float32Array) => {
      const bin = (await head.predict(x)).labels;
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
      status: head.training.diverged ? "diverged" : "ok",
      ...(head.training.diverged ? { reason: "the canon head's cross-entropy became non-finite" } : {}),
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
        trainable_parameters: s.parameters + head.trainableParameters,
      },
      fitSeconds,
      dispose: () => head.dispose(),
    };
  } catch (e) {
    head.dispose();
    throw e;
  }
}

/** The catalog entry of `canon` (registered in ./registered.ts). */
export const method = defineMethod({
  kind: "canon",
  summary: "canonicalisation: a head predicts the transform's bin, then that bin's steering map is applied",
  options,
  run,
});

/**
 * `aug-probe` (docs/protocol.md): the classifier trains on the clean train features plus the features of
 * augmented train views 0..s−1 of the cell's augmentation (s = `views`, by default the matrix's
 * view budget: as many augmented views per image as its adapters see), all with the clean labels; at test time it sees F as `none` does. This makes the
 * *classifier* invariant, not the latent space: E is the identity (`embed` null) and rows carry
 * the flag "invariant-classifier-not-latent". Cost: s + 1 backbone passes per train input, 1 per
 * test input, nothing trained besides the classifier.
 */
import { type CellFeatures, defineMethod, type FittedMethod, type MethodOf } from "../method.ts";
import { concatRows, repeatLabels, secondsSince } from "./common.ts";

export const AUG_PROBE_FLAG = "invariant-classifier-not-latent";

const options = {
  views: {
    description:
      "s: augmented train views 0..s−1 added, with clean labels, to the clean train features (default: the view budget)",
    viewBudget: true,
    integer: true,
    min: 1,
  },
} as const;

async function run(method: MethodOf<typeof options>, f: CellFeatures): Promise<FittedMethod> {
  const parts = [await f.clean("train")];
  for (let v = 0; v < method.views; v++) parts.push(await f.augmented("train", v));
  const started = performance.now();
  const x = concatRows(parts);
  const labels = repeatLabels(f.labels.train, parts.length);
  return {
    status: "ok",
    flags: [AUG_PROBE_FLAG],
    trainSet: { x, labels, dim: f.d },
    represent: (view) => (view === "clean" ? f.clean("test") : f.augmented("test", view)),
    embed: null,
    cost: { backbone_passes_train: method.views + 1, backbone_passes_test: 1, trainable_parameters: 0 },
    fitSeconds: secondsSince(started),
    dispose() {},
  };
}

/** The catalog entry of `aug-probe` (registered in ./registered.ts). */
export const method = defineMethod({
  kind: "aug-probe",
  summary:
    "the classifier trains on clean plus augmented train features, all with clean labels (an invariant classifier, not latent space)",
  options,
  run,
});

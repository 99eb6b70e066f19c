/** `none` (EC): no adapter; the classifier sees the backbone's features F themselves. */
import { defineMethod } from "../method.ts";

/** The catalog entry of `none` (registered in ./registered.ts). */
export const method = defineMethod({
  kind: "none",
  summary: "no adapter (EC): the classifier sees the backbone's features F themselves",
  options: {},
  async run(_method, f) {
    // The classifier reads the clean train rows batch by batch where the cell offers rows.
    const x = f.cleanRows ? await f.cleanRows("train") : await f.clean("train");
    return {
      status: "ok",
      flags: [],
      trainSet: { x, labels: f.labels.train, dim: f.d },
      represent: (view) => (view === "clean" ? f.clean("test") : f.augmented("test", view)),
      embed: null,
      cost: { backbone_passes_train: 1, backbone_passes_test: 1, trainable_parameters: 0 },
      fitSeconds: 0,
      dispose: () => x instanceof Float32Array || x.close(),
    };
  },
});

/**
 * MaWa as a method file: the anchored MSE, mean over all (s+1)N rows of ‖E(F(view)) − F(clean)‖².
 * Written only against `ops`, it gives the same numbers as the built-in `mawa` (tests/methods_file_test.ts).
 */
import type { LossDefinition } from "../../mod.ts";

const mawa: LossDefinition = {
  name: "mawa-file",
  summary: "anchored MSE: mean over all views of ‖E(F(view)) − F(clean)‖²",
  params: {},
  usesAnchors: true,
  sameDim: true,
  minViews: 1,
  random: false,
  loss(batch, _params, ops) {
    return ops.mean(ops.sum(ops.square(ops.sub(batch.y, batch.anchors)), 1));
  },
};

export default mawa;

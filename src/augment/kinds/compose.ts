/**
 * `compose`: a fixed sequence of augmentations of any kinds, applied in order to each view (a
 * warp, a corruption, noise, another compose). Step k draws from the view's stream derived by
 * ("step", k), so two steps of one kind draw independently. Steering bins follow the first step
 * with more than one bin (rotations); clean inputs share its identity bin only when every other
 * step can leave the image unchanged too.
 */
import { defineAugmentation, type ResolvedSpec } from "../kind.ts";
import { nestedKind, resolveList } from "../nested.ts";
import { CounterRng } from "../../rng/philox.ts";

export const augmentation = defineAugmentation({
  kind: "compose",
  summary: "a fixed sequence of augmentations of any kinds, applied in order",
  fields: { steps: { description: "the augmentations, in order (without ids)", type: "augmentations" } },
  geometric: false,
  pixels: true,
  random: true,
  tta: "draws",
  resolve: (spec) => ({ kind: "compose", steps: resolveList(spec, "compose", "steps") }),
  sample: (spec, rng, width, height) => ({
    kind: "sequence",
    steps: (spec.steps as ResolvedSpec[]).map((s, k) => ({
      spec: s,
      params: nestedKind(s, `compose.steps[${k}]`).sample(s, new CounterRng(rng, "step", k), width, height),
      stream: ["step", k],
    })),
  }),
  bins(spec, count) {
    const steps = spec.steps as ResolvedSpec[];
    const each = steps.map((s, k) => nestedKind(s, `compose.steps[${k}]`).bins(s, count));
    const k = each.findIndex((b) => b.count > 1);
    const othersClean = each.every((b, j) => j === k || b.identity !== null);
    if (k < 0) return { count: 1, identity: othersClean ? 0 : null, describe: "one bin", binOf: () => 0 };
    return {
      count: each[k].count,
      identity: othersClean ? each[k].identity : null,
      describe: `${each[k].describe}, by step ${k} (${steps[k].kind})`,
      binOf: (p) => {
        if (p.kind !== "sequence") throw new RangeError(`compose bins: got parameters of kind ${p.kind}`);
        return each[k].binOf(p.steps[k].params);
      },
    };
  },
});

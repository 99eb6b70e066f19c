/**
 * `random_choice`: RandAugment-style (Cubuk et al. 2020): each view applies `n` ops drawn
 * uniformly with replacement from `ops` (draw CHOICE + j picks op j), in order, at magnitude
 * `magnitude`: every op with a `severity` field (the corruptions) takes severity = magnitude; the
 * other ops keep their own fields. Op j draws from the view's stream derived by ("op", j). One
 * steering bin; clean inputs take the identity map.
 */
import { augmentationField } from "../../catalog/entries.ts";
import { defineAugmentation, type ResolvedSpec } from "../kind.ts";
import { nestedKind, resolveList } from "../nested.ts";
import { DRAW } from "../params.ts";
import { CounterRng } from "../../rng/philox.ts";

export const augmentation = defineAugmentation({
  kind: "random_choice",
  summary: "RandAugment-style: n ops drawn per view from `ops`, applied in order at severity `magnitude`",
  fields: {
    ops: { description: "the augmentations to draw from (without ids)", type: "augmentations" },
    n: {
      description: "ops applied per view, drawn with replacement",
      type: "number",
      integer: true,
      default: 2,
      min: 1,
      max: 16,
    },
    magnitude: {
      description: "severity (1–5) given to every op that has one",
      type: "number",
      integer: true,
      default: 3,
      min: 1,
      max: 5,
    },
  },
  geometric: false,
  pixels: true,
  random: true,
  tta: "draws",
  resolve(spec) {
    const magnitude = augmentationField(this, spec, "magnitude") as number;
    const ops = Array.isArray(spec.ops)
      ? spec.ops.map((op, j) =>
        "severity" in nestedKind(op, `random_choice.ops[${j}]`).fields ? { ...op, severity: magnitude } : op
      )
      : spec.ops;
    return {
      kind: "random_choice",
      ops: resolveList({ ops }, "random_choice", "ops"),
      n: augmentationField(this, spec, "n") as number,
      magnitude,
    };
  },
  sample(spec, rng, width, height) {
    const ops = spec.ops as ResolvedSpec[];
    return {
      kind: "sequence",
      steps: Array.from({ length: spec.n as number }, (_, j) => {
        const op = ops[Math.floor(rng.uniform(DRAW.choice + j) * ops.length)];
        return {
          spec: op,
          params: nestedKind(op, `random_choice.ops`).sample(op, new CounterRng(rng, "op", j), width, height),
          stream: ["op", j],
        };
      }),
    };
  },
  bins: () => ({ count: 1, identity: null, describe: "one bin", binOf: () => 0 }),
});

/**
 * `tta` (test-time augmentation / group averaging, docs/protocol.md "Baselines that do not train an
 * adapter loss"): the representation of an input x is the mean of F over K transformed copies,
 *
 *   G(x) = (1/K) Σ_j F(g_j · x),
 *
 * used for the classifier's training set (clean train inputs) and at test time (clean and
 * augmented test inputs). The copies g_j:
 *   rotation, rotation_c4, rotation_c8: the K fixed rotations by 360°·j/K (j = 0..K−1), so G is
 *     exactly invariant to the rotations by multiples of 360°/K (a cyclic shift of the copies);
 *   every other kind (gaussian_noise, affine, resized_crop, the corruptions, compose,
 *     random_choice): K independent draws of the cell's augmentation, from the streams (seed,
 *     "augment", "<split>/tta", image id, j), apart from the evaluation views.
 * An augmented test input t(a, x) is what the method is given, so its copies are applied on top of
 * that view: g_j · t(a, x), the view drawn exactly as `augmented(split, view)` draws it (a second
 * bilinear resampling for the geometric kinds, as a deployed TTA would do; a corruption is applied
 * again to the corrupted view in pixel units; noise adds a second draw). Each copy is a FeatureAugmentation whose key names the base (clean or the cell's
 * augmentation key) and the copy, so the feature cache never confuses them with other features.
 * Cost: K backbone passes per train and per test input; nothing is trained.
 */
import { augmentBatch } from "../../augment/augment.ts";
import { type AugmentSpec, isPixelSpace, resolveSpec, ttaCopyKind } from "../../augment/spec.ts";
import {
  AUGMENT_PIPELINE_VERSION,
  type FeatureAugmentation,
  featureAugmentation,
} from "../../backbone/extract.ts";
import type { Split } from "../../data/dataset.ts";
import { type CellFeatures, defineMethod, type FittedMethod, type MethodOf } from "../method.ts";
import { RowLookup, secondsSince } from "./common.ts";

/** Version of the copy pipeline below, in every copy's cache key. */
export const TTA_COPY_VERSION = "invbench.tta-copy/v1";

/** One transformed copy: a fixed rotation, or draw `index` of an augmentation. */
export type TtaCopy =
  | { kind: "rotation"; degrees: number }
  | { kind: "draw"; spec: AugmentSpec; index: number };

/** The K copies used for an augmentation (see the module doc). */
export function ttaCopies(augmentation: AugmentSpec, copies: number): TtaCopy[] {
  if (!Number.isInteger(copies) || copies < 1) throw new RangeError(`tta copies ${copies}: expected ≥ 1`);
  if (ttaCopyKind(augmentation) === "rotations") {
    return Array.from({ length: copies }, (_, j) => ({ kind: "rotation", degrees: (360 * j) / copies }));
  }
  return Array.from({ length: copies }, (_, j) => ({ kind: "draw", spec: augmentation, index: j }));
}

/** The stream family of the copies' draws for a split (distinct from the evaluation views'). */
export function ttaStream(split: string): string {
  return `${split}/tta`;
}

/**
 * Copy `copy` applied on top of `base` (the cell's augmentation, view `view` as passed to
 * `transformed`) or on top of the clean image (`base` null), as a FeatureAugmentation.
 */
export function ttaAugmentation(base: AugmentSpec | null, copy: TtaCopy): FeatureAugmentation {
  const second: AugmentSpec = copy.kind === "rotation"
    ? { kind: "rotation", degrees: [copy.degrees, copy.degrees] }
    : copy.spec;
  const resolved = resolveSpec(second);
  // Warps and corruptions stack in [0, 1] pixel units; gaussian_noise in normalised units.
  const geometric = isPixelSpace(resolved);
  if (base && isPixelSpace(resolveSpec(base)) !== geometric) {
    throw new RangeError(`tta: a ${resolved.kind} copy on top of a ${base.kind} view is not supported`);
  }
  // A fixed rotation draws nothing: its index does not matter, so K = 4 and K = 8 share 90°.
  const copyKey = copy.kind === "rotation"
    ? { rotation: copy.degrees }
    : { draw: resolved, index: copy.index };
  const index = copy.kind === "rotation" ? 0 : copy.index;
  return {
    key: {
      kind: TTA_COPY_VERSION,
      base: base ? featureAugmentation(base).key : "clean",
      copy: copyKey,
      pipeline: AUGMENT_PIPELINE_VERSION,
    },
    // A fixed rotation of the clean image is the same for every seed: the seeds share its features.
    fixed: copy.kind === "rotation" && !base,
    apply: ({ images, ids, seed, split, view, normalize }) => {
      if (geometric) {
        // The base view in [0, 1] pixel units (warped, filled with 0, not normalised), then the
        // copy's warp and the normalisation.
        const start = base
          ? { ...images, data: augmentBatch(images, ids, base, seed, split, view, {}) }
          : images;
        return augmentBatch(start, ids, second, seed, ttaStream(split), index, { normalize });
      }
      // Noise: the base view normalised (with its own noise), then the copy's noise on top.
      const start = baseView(
        images,
        ids,
        base ?? { kind: "identity" },
        seed,
        split,
        view,
        normalize,
      );
      return augmentBatch(
        { ...images, data: start },
        ids,
        second,
        seed,
        ttaStream(split),
        index,
        { inputScale: 1 },
      );
    },
  };
}

/**
 * The last base view computed, for the next copies of the same images: a method extracts its K
 * copies one after another, and each drew the same noisy base view again (K − 1 of every K noise
 * draws of an augmented test input). Reused only for equal images, ids, spec and stream.
 */
let lastBase: {
  key: string;
  pixels: Uint8Array | Float32Array;
  ids: Int32Array;
  view: Float32Array;
} | null = null;

function baseView(
  images: Parameters<FeatureAugmentation["apply"]>[0]["images"],
  ids: Int32Array,
  spec: AugmentSpec,
  seed: number,
  split: string,
  view: number,
  normalize: { mean: readonly number[]; std: readonly number[] },
): Float32Array {
  const key = JSON.stringify([
    spec,
    seed,
    split,
    view,
    normalize,
    images.n,
    images.channels,
    images.height,
    images.width,
  ]);
  const same = lastBase !== null && lastBase.key === key && equalArrays(lastBase.ids, ids) &&
    equalArrays(lastBase.pixels, images.data);
  if (!same) {
    lastBase = {
      key,
      pixels: images.data.slice(),
      ids: ids.slice(),
      view: augmentBatch(images, ids, spec, seed, split, view, { normalize }),
    };
  }
  return lastBase!.view.slice();
}

/** Equal bit for bit, and of one kind (floats compared as their bits: −0 is not +0). */
function equalArrays(
  a: Int32Array | Uint8Array | Float32Array,
  b: Int32Array | Uint8Array | Float32Array,
): boolean {
  const bits = (
    x: typeof a,
  ) => (x instanceof Float32Array ? new Int32Array(x.buffer, x.byteOffset, x.length) : x);
  const p = bits(a), q = bits(b);
  if (p.length !== q.length || p.constructor !== q.constructor) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return false;
  return true;
}

/** Element-wise mean of K equally shaped feature matrices (float64 accumulation). */
export function averageCopies(copies: readonly Float32Array[]): Float32Array {
  if (copies.length === 0) throw new RangeError("averageCopies: no copies");
  const n = copies[0].length;
  if (copies.some((c) => c.length !== n)) throw new RangeError("averageCopies: copies differ in size");
  const acc = new Float64Array(n);
  for (const c of copies) for (let i = 0; i < n; i++) acc[i] += c[i];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = acc[i] / copies.length;
  return out;
}

const options = {
  copies: {
    description:
      "K: transformed copies averaged per input (K backbone passes per train and test input; default: the view budget)",
    viewBudget: true,
    integer: true,
    min: 1,
  },
} as const;

async function run(method: MethodOf<typeof options>, f: CellFeatures): Promise<FittedMethod> {
  const copies = ttaCopies(f.augmentation, method.copies);
  let averagingSeconds = 0;
  const averaged = async (split: Split, view: "clean" | number) => {
    const parts: Float32Array[] = [];
    for (const c of copies) {
      const aug = ttaAugmentation(view === "clean" ? null : f.augmentation, c);
      parts.push(await f.transformed(split, aug, view === "clean" ? 0 : view));
    }
    const started = performance.now();
    const mean = averageCopies(parts);
    averagingSeconds += secondsSince(started);
    return mean;
  };
  const train = await averaged("train", "clean");
  const fitSeconds = averagingSeconds;
  let cleanTest: Promise<Float32Array> | null = null;
  const cleanTestAveraged = () => (cleanTest ??= averaged("test", "clean"));
  return {
    status: "ok",
    flags: [],
    trainSet: { x: train, labels: f.labels.train, dim: f.d },
    represent: (view) => (view === "clean" ? cleanTestAveraged() : averaged("test", view)),
    // E exists on inputs, not on features: defined for the cell's clean rows, found by content.
    embed: async (features) => {
      const sources: { clean: () => Promise<Float32Array>; averaged: () => Promise<Float32Array> }[] = [
        { clean: () => f.clean("test"), averaged: cleanTestAveraged },
        { clean: () => f.clean("train"), averaged: () => Promise.resolve(train) },
      ];
      const lookups: (RowLookup | undefined)[] = [];
      const n = features.length / f.d, out = new Float32Array(features.length);
      for (let r = 0; r < n; r++) {
        let found = false;
        for (let s = 0; s < sources.length && !found; s++) {
          const lookup = lookups[s] ??= new RowLookup(await sources[s].clean(), f.d);
          const k = lookup.find(features, r);
          if (k < 0) continue;
          out.set((await sources[s].averaged()).subarray(k * f.d, (k + 1) * f.d), r * f.d);
          found = true;
        }
        if (!found) {
          throw new RangeError(
            `method ${method.id}: tta's E is defined only on the cell's clean features (row ${r} is not one)`,
          );
        }
      }
      return out;
    },
    cost: {
      backbone_passes_train: copies.length,
      backbone_passes_test: copies.length,
      trainable_parameters: 0,
    },
    fitSeconds,
    dispose() {},
  };
}

/** The catalog entry of `tta` (registered in ./registered.ts). */
export const method = defineMethod({
  kind: "tta",
  summary: "test-time augmentation: features averaged over K transformed copies of each input",
  options,
  run,
});

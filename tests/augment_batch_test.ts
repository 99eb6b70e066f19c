// Reproducibility of views: bit-for-bit on the CPU path, and independent of batch size, order,
// composition and of which subset the image was loaded in (the key is the image's source index).
import assert from "node:assert/strict";
import { augmentBatch, batchOf, type ImageBatch } from "../src/augment/augment.ts";
import type { AugmentSpec } from "../src/augment/spec.ts";
import { loadMnist } from "../src/data/mnist.ts";

const test = loadMnist("test", { limit: 2000 });
const norm = { normalize: { mean: [0.1307], std: [0.3081] } };
const SPECS: AugmentSpec[] = [
  { kind: "rotation" },
  { kind: "rotation_c8" },
  { kind: "affine" },
  { kind: "resized_crop" },
  { kind: "gaussian_noise", std: 1 },
  { kind: "shot_noise", severity: 2 },
  { kind: "impulse_noise", severity: 4 },
  { kind: "elastic_transform", severity: 5 },
  { kind: "compose", steps: [{ kind: "rotation" }, { kind: "gaussian_noise_c" }, { kind: "defocus_blur" }] },
  {
    kind: "random_choice",
    ops: [{ kind: "affine" }, { kind: "impulse_noise" }, { kind: "shot_noise" }],
    n: 3,
  },
];
const PER = 784;
const bits = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

Deno.test("views are bit-for-bit reproducible", () => {
  const { images, indices } = batchOf(test, Array.from({ length: 64 }, (_, i) => i));
  for (const spec of SPECS) {
    const a = augmentBatch(images, indices, spec, 11, "train", 2, norm);
    const b = augmentBatch(images, indices, spec, 11, "train", 2, norm);
    assert.deepEqual(bits(a), bits(b), spec.kind);
  }
});

Deno.test("a view does not depend on batch size, order or composition", () => {
  const rows = Array.from({ length: 48 }, (_, i) => i * 37 % 2000);
  for (const spec of SPECS) {
    const whole = batchOf(test, rows);
    const ref = augmentBatch(whole.images, whole.indices, spec, 3, "train", 1, norm);
    // Reversed order, split into batches of 1, 5 and the rest, with other images mixed in.
    const reversed = [...rows].reverse();
    const parts = [reversed.slice(0, 1), [1999, ...reversed.slice(1, 6), 1500], reversed.slice(6)];
    for (const part of parts) {
      const b = batchOf(test, part);
      const out = augmentBatch(b.images, b.indices, spec, 3, "train", 1, norm);
      part.forEach((row, j) => {
        const i = rows.indexOf(row);
        if (i < 0) return;
        assert.deepEqual(
          bits(out.subarray(j * PER, (j + 1) * PER)),
          bits(ref.subarray(i * PER, (i + 1) * PER)),
          `${spec.kind} row ${row}`,
        );
      });
    }
  }
});

Deno.test("an image gets the same views in a stratified subset as in the full split", () => {
  const subset = loadMnist("test", { limit: 100, stratified_seed: 4 });
  const rows = [0, 17, 99];
  const a = batchOf(subset, rows);
  const b = batchOf(loadMnist("test"), Array.from(rows, (r) => subset.sourceIndex[r]));
  assert.deepEqual(a.indices, b.indices);
  for (const spec of SPECS) {
    assert.deepEqual(
      augmentBatch(a.images, a.indices, spec, 0, "test", 0, norm),
      augmentBatch(b.images, b.indices, spec, 0, "test", 0, norm),
    );
  }
});

Deno.test("views differ across view number, seed and split; the clean image is untouched", () => {
  const { images, indices } = batchOf(test, Array.from({ length: 16 }, (_, i) => i));
  const before = images.data.slice();
  for (const spec of SPECS) {
    const base = augmentBatch(images, indices, spec, 0, "train", 0, norm);
    for (const [seed, split, view] of [[0, "train", 1], [1, "train", 0], [0, "test", 0]] as const) {
      const other = augmentBatch(images, indices, spec, seed, split, view, norm);
      let differing = 0;
      for (let i = 0; i < 16; i++) {
        const x = other.subarray(i * PER, (i + 1) * PER), y = base.subarray(i * PER, (i + 1) * PER);
        if (x.some((v, k) => v !== y[k])) differing++;
      }
      // Continuous parameters never repeat; C8 repeats an angle with probability 1/8 per image.
      assert.ok(
        differing >= (spec.kind === "rotation_c8" ? 8 : 16),
        `${spec.kind} (${seed}, ${split}, ${view}): only ${differing} of 16 differ`,
      );
    }
  }
  assert.deepEqual(images.data, before, "input not modified");
});

Deno.test("uint8 input equals the same pixels given as float32 in [0, 1]", () => {
  const { images, indices } = batchOf(test, [5, 6, 7]);
  const asFloat: ImageBatch = { ...images, data: Float32Array.from(images.data, (v) => v / 255) };
  for (const spec of SPECS) {
    const a = augmentBatch(images, indices, spec, 2, "train", 0, norm);
    const b = augmentBatch(asFloat, indices, spec, 2, "train", 0, norm);
    for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) < 1e-5, `${spec.kind} value ${k}`);
  }
});

Deno.test("fill: default raw 0 (−mean/std after normalisation), or 'mean' (0 after normalisation)", () => {
  const { images, indices } = batchOf(test, [0]);
  const white = { ...images, data: new Uint8Array(PER).fill(255) };
  const spec: AugmentSpec = { kind: "rotation", degrees: [45, 45] };
  const black = augmentBatch(white, indices, spec, 0, "train", 0, norm);
  assert.ok(Math.abs(black[0] - -0.1307 / 0.3081) < 1e-6, `corner ${black[0]}`);
  const mean = augmentBatch(white, indices, spec, 0, "train", 0, { ...norm, fill: "mean" });
  assert.ok(Math.abs(mean[0]) < 1e-6, `corner ${mean[0]}`);
});

Deno.test("argument errors", () => {
  const { images } = batchOf(test, [0, 1]);
  assert.throws(
    () => augmentBatch(images, [0], { kind: "rotation" }, 0, "train", 0),
    /1 indices for 2 images/,
  );
  assert.throws(
    () =>
      augmentBatch(images, [0, 1], { kind: "rotation" }, 0, "train", 0, {
        normalize: { mean: [0, 0], std: 1 },
      }),
    /normalize\.mean/,
  );
  assert.throws(
    () =>
      augmentBatch(images, [0, 1], { kind: "rotation" }, 0, "train", 0, { normalize: { mean: 0, std: 0 } }),
    /normalize\.std/,
  );
  assert.throws(
    () => augmentBatch(images, [0, -1], { kind: "rotation" }, 0, "train", 0),
    /indices\[1\] = -1/,
  );
});

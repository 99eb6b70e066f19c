// The CPU warp and the matrices: exact pixel permutations for multiples of 90° (odd and even
// sizes), exact identities, and the direction conventions (rotation counter-clockwise on screen,
// translations in +x right / +y down, fill and clamp borders).
//
// Convention checked here: pixel (row i, col j) has its centre at (x, y) = (j, i); images turn
// about ((W−1)/2, (H−1)/2); rotation by +90° is numpy's rot90: out[i][j] = in[j][N−1−i].
import assert from "node:assert/strict";
import { augmentBatch } from "../src/augment/augment.ts";
import { affineMatrix, cropMatrix, IDENTITY, rotationMatrix } from "../src/augment/warp_matrix.ts";
import { viewRng } from "../src/augment/params.ts";
import { resolveSpec, sampleParams } from "../src/augment/spec.ts";
import { warpCpu } from "../src/augment/warp_cpu.ts";
import { CounterRng } from "../src/rng/philox.ts";

const randomImage = (c: number, h: number, w: number, seed = 1) =>
  new CounterRng(seed, "test-image").uniforms(c * h * w);

/** numpy.rot90(a, k) of each channel of a square CHW image. */
function rot90(a: Float32Array, c: number, n: number, k: number): Float32Array {
  let cur = a;
  for (let t = 0; t < ((k % 4) + 4) % 4; t++) {
    const out = new Float32Array(cur.length);
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) out[(ch * n + i) * n + j] = cur[(ch * n + j) * n + (n - 1 - i)];
      }
    }
    cur = out;
  }
  return cur;
}

const warp1 = (
  img: Float32Array,
  c: number,
  h: number,
  w: number,
  m: number[],
  fill = 0,
  border: "fill" | "clamp" = "fill",
) => warpCpu(img, { n: 1, channels: c, height: h, width: w }, m, new Float32Array(c).fill(fill), border);

Deno.test("rotation by multiples of 90° is the exact rot90 permutation, odd and even sizes", () => {
  for (const n of [1, 2, 5, 6, 28]) {
    const img = randomImage(2, n, n, n);
    for (const [deg, k] of [[0, 0], [90, 1], [180, 2], [270, 3], [-90, 3], [360, 0], [450, 1], [-180, 2]]) {
      const out = warp1(img, 2, n, n, rotationMatrix(deg, n, n), 1e6);
      assert.deepEqual(out, rot90(img, 2, n, k), `n=${n}, ${deg}°`);
    }
  }
});

Deno.test("180° on a non-square image flips both axes exactly", () => {
  const [h, w] = [4, 7];
  const img = randomImage(1, h, w);
  const out = warp1(img, 1, h, w, rotationMatrix(180, w, h), 1e6);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) assert.equal(out[i * w + j], img[(h - 1 - i) * w + (w - 1 - j)]);
  }
});

Deno.test("+90° is counter-clockwise on screen: the pixel right of centre goes to the top", () => {
  const img = new Float32Array(25);
  img[2 * 5 + 4] = 1; // row 2, col 4
  const out = warp1(img, 1, 5, 5, rotationMatrix(90, 5, 5));
  assert.equal(out[0 * 5 + 2], 1);
  assert.equal(out.reduce((a, b) => a + b, 0), 1);
});

Deno.test("identity matrix, rotation by 0, identity affine and full-image crop are exact", () => {
  const img = randomImage(3, 9, 12);
  const shape = { n: 1, channels: 3, height: 9, width: 12 };
  assert.deepEqual(warpCpu(img, shape, IDENTITY, [1e6, 1e6, 1e6]), img);
  assert.deepEqual(warp1(img, 3, 9, 12, rotationMatrix(0, 12, 9), 1e6), img);
  assert.deepEqual(
    warp1(
      img,
      3,
      9,
      12,
      affineMatrix({ degrees: 0, translate: [0, 0], scale: 1, shear: [0, 0] }, 12, 9),
      1e6,
    ),
    img,
  );
  assert.deepEqual(warp1(img, 3, 9, 12, cropMatrix({ x: 0, y: 0, w: 12, h: 9 }, 12, 9), 1e6, "clamp"), img);
  // Through the public API with degenerate ranges (and no normalisation), bit-for-bit.
  const batch = { data: img, n: 1, channels: 3, height: 9, width: 12 };
  for (
    const spec of [
      { kind: "rotation", degrees: [0, 0] },
      { kind: "affine", degrees: [0, 0], translate: 0, scale: [1, 1], shear: [0, 0] },
      { kind: "identity" },
    ] as const
  ) {
    assert.deepEqual(augmentBatch(batch, [0], spec, 3, "train", 0), img, spec.kind);
  }
});

Deno.test("affine translation moves content +x right, +y down; scale about the centre", () => {
  const img = new Float32Array(49);
  img[3 * 7 + 3] = 1; // the centre of a 7×7
  const moved = warp1(
    img,
    1,
    7,
    7,
    affineMatrix({ degrees: 0, translate: [2, -1], scale: 1, shear: [0, 0] }, 7, 7),
  );
  assert.equal(moved[2 * 7 + 5], 1, "row 3−1, col 3+2");
  img.fill(0);
  img[3 * 7 + 4] = 1; // one right of centre
  const scaled = warp1(
    img,
    1,
    7,
    7,
    affineMatrix({ degrees: 0, translate: [0, 0], scale: 2, shear: [0, 0] }, 7, 7),
  );
  assert.equal(scaled[3 * 7 + 5], 1, "scale 2 doubles the distance from the centre");
  assert.deepEqual(
    Array.from(scaled.subarray(3 * 7 + 3, 3 * 7 + 7)),
    [0, 0.5, 1, 0.5],
    "bilinear at src x = 3, 3.5, 4, 4.5",
  );
});

Deno.test("x-shear by φ moves row y by tan φ·(y − centre) pixels", () => {
  const img = new Float32Array(81);
  img[8 * 9 + 4] = 1; // bottom row, centre column: 4 rows below the centre
  const out = warp1(
    img,
    1,
    9,
    9,
    affineMatrix({ degrees: 0, translate: [0, 0], scale: 1, shear: [45, 0] }, 9, 9),
  );
  assert.ok(Math.abs(out[8 * 9 + 8] - 1) < 1e-12, "tan 45° · 4 rows = 4 columns right");
});

Deno.test("bilinear half-pixel shift averages neighbours and fades into the fill at the border", () => {
  const img = Float32Array.from([2, 4, 8, 16]); // one row
  const out = warp1(
    img,
    1,
    1,
    4,
    affineMatrix({ degrees: 0, translate: [0.5, 0], scale: 1, shear: [0, 0] }, 4, 1),
    10,
  );
  assert.deepEqual(Array.from(out), [(10 + 2) / 2, 3, 6, 12]);
  const clamped = warp1(
    img,
    1,
    1,
    4,
    affineMatrix({ degrees: 0, translate: [0.5, 0], scale: 1, shear: [0, 0] }, 4, 1),
    10,
    "clamp",
  );
  assert.deepEqual(Array.from(clamped), [2, 3, 6, 12], "clamp replicates the edge, never reads the fill");
});

Deno.test("fill: corners uncovered by a 45° rotation take the fill value; the centre keeps the image", () => {
  const n = 21;
  const img = new Float32Array(n * n).fill(1);
  const out = warp1(img, 1, n, n, rotationMatrix(45, n, n), 0.25);
  assert.equal(out[0], 0.25);
  assert.equal(out[n * n - 1], 0.25);
  assert.ok(Math.abs(out[10 * n + 10] - 1) < 1e-7);
  for (const v of out) assert.ok(v >= 0.25 - 1e-7 && v <= 1 + 1e-7, "a convex blend of image and fill");
});

Deno.test("rotation_c4 through augmentBatch gives rot90^k with k from the view's parameters", () => {
  const n = 6, count = 12;
  const data = randomImage(1, n, n * count, 9);
  const batch = { data, n: count, channels: 1, height: n, width: n };
  const out = augmentBatch(
    batch,
    Array.from({ length: count }, (_, i) => 100 + i),
    { kind: "rotation_c4" },
    5,
    "train",
    2,
  );
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const p = sampleParams(resolveSpec({ kind: "rotation_c4" }), viewRng(5, "train", 100 + i, 2), n, n);
    assert.equal(p.kind, "rotation");
    const k = p.kind === "rotation" ? p.degrees / 90 : -1;
    seen.add(k);
    assert.deepEqual(
      out.subarray(i * n * n, (i + 1) * n * n),
      rot90(data.subarray(i * n * n, (i + 1) * n * n), 1, n, k),
    );
  }
  assert.ok(seen.size >= 3, "several quarter turns occur");
});

Deno.test("warp argument checks", () => {
  assert.throws(
    () => warpCpu(new Float32Array(4), { n: 1, channels: 1, height: 2, width: 2 }, IDENTITY, [NaN]),
    /fill\[0\] = NaN/,
  );
  assert.throws(
    () => warpCpu(new Float32Array(4), { n: 1, channels: 1, height: 2, width: 3 }, IDENTITY, [0]),
    /4 values for 1×1×2×3/,
  );
  assert.throws(
    () => warpCpu(new Float32Array(4), { n: 1, channels: 1, height: 2, width: 2 }, [1, 0, 0], [0]),
    /6 per image/,
  );
  assert.throws(
    () => warpCpu(new Float32Array(4), { n: 1, channels: 1, height: 2, width: 2 }, IDENTITY, [0, 0]),
    /one per channel/,
  );
});

// Parameter sampling: every draw inside its declared range, ranges actually covered, discrete
// groups uniform, the crop's aspect log-uniform as torchvision's, and bad specs named.
// Bounds are 5 standard errors (a false failure has probability < 1e-6 per check; the draws are
// deterministic, so a pass is a pass on every machine).
import { ConfigError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { type ViewParams, viewRng } from "../src/augment/params.ts";
import { type AugmentSpec, resolveSpec, sampleParams } from "../src/augment/spec.ts";

const N = 4000;
const W = 40, H = 30;

function draws<K extends ViewParams["kind"]>(
  spec: AugmentSpec,
  kind: K,
  size: [number, number] = [W, H],
): Extract<ViewParams, { kind: K }>[] {
  const r = resolveSpec(spec);
  return Array.from({ length: N }, (_, i) => {
    const p = sampleParams(r, viewRng(0, "train", i, i % 3), size[0], size[1]);
    assert.equal(p.kind, kind);
    return p as Extract<ViewParams, { kind: K }>;
  });
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

/** Asserts all values in [lo, hi], the extremes within `cover` of the ends, and a uniform mean. */
function uniformIn(values: number[], lo: number, hi: number, what: string): void {
  const mn = Math.min(...values), mx = Math.max(...values);
  assert.ok(mn >= lo && mx <= hi, `${what}: [${mn}, ${mx}] outside [${lo}, ${hi}]`);
  const cover = (hi - lo) * 0.005; // P(no draw in an end slice of 0.5 %) = 0.995^4000 ≈ 2e-9
  assert.ok(mn < lo + cover && mx > hi - cover, `${what}: [${mn}, ${mx}] does not cover [${lo}, ${hi}]`);
  const se = (hi - lo) / Math.sqrt(12 * values.length);
  assert.ok(Math.abs(mean(values) - (lo + hi) / 2) < 5 * se, `${what}: mean ${mean(values)}`);
}

Deno.test("rotation: uniform over the default [−180, 180] and over a custom range", () => {
  uniformIn(draws({ kind: "rotation" }, "rotation").map((p) => p.degrees), -180, 180, "degrees");
  uniformIn(
    draws({ kind: "rotation", degrees: [10, 25] }, "rotation").map((p) => p.degrees),
    10,
    25,
    "degrees",
  );
});

Deno.test("rotation_c4 / rotation_c8: only the group's angles, each equally often", () => {
  for (const [kind, k] of [["rotation_c4", 4], ["rotation_c8", 8]] as const) {
    const counts = new Map<number, number>();
    for (const p of draws({ kind }, "rotation")) counts.set(p.degrees, (counts.get(p.degrees) ?? 0) + 1);
    assert.deepEqual(
      [...counts.keys()].sort((a, b) => a - b),
      Array.from({ length: k }, (_, i) => (i * 360) / k),
    );
    const sd = Math.sqrt(N * (1 / k) * (1 - 1 / k));
    for (const [deg, c] of counts) assert.ok(Math.abs(c - N / k) < 5 * sd, `${kind} ${deg}°: ${c}`);
  }
});

Deno.test("affine: rotation ±30°, translation ±0.2 of the size, scale 0.8–1.2, shear ±15° by default", () => {
  const ps = draws({ kind: "affine" }, "affine");
  uniformIn(ps.map((p) => p.degrees), -30, 30, "degrees");
  uniformIn(ps.map((p) => p.translate[0]), -0.2 * W, 0.2 * W, "translate x (px)");
  uniformIn(ps.map((p) => p.translate[1]), -0.2 * H, 0.2 * H, "translate y (px)");
  uniformIn(ps.map((p) => p.scale), 0.8, 1.2, "scale");
  uniformIn(ps.map((p) => p.shear[0]), -15, 15, "shear x");
  assert.ok(ps.every((p) => p.shear[1] === 0), "no y-shear by default");
  const custom = draws({
    kind: "affine",
    degrees: [0, 0],
    translate: [0.1, 0],
    scale: [1, 2],
    shear: [0, 0],
    shear_y: [-5, 5],
  }, "affine");
  uniformIn(custom.map((p) => p.translate[0]), -0.1 * W, 0.1 * W, "custom translate x");
  uniformIn(custom.map((p) => p.scale), 1, 2, "custom scale");
  uniformIn(custom.map((p) => p.shear[1]), -5, 5, "custom shear y");
  assert.ok(custom.every((p) => p.degrees === 0 && p.translate[1] === 0));
});

Deno.test("resized_crop: area 0.5–0.7, aspect log-uniform in 0.75–1.33, box inside the image", () => {
  const eps = 1e-9;
  // On a square image every first attempt fits (√(0.7·1.33) < 1), so the draws are exactly the
  // specified distributions; on a 40×30 image some boxes are rejected and redrawn (as in
  // torchvision), which skews the area but never leaves the ranges.
  for (const [w, h] of [[32, 32], [W, H]]) {
    const boxes = draws({ kind: "resized_crop" }, "resized_crop", [w, h]).map((p) => p.box);
    for (const b of boxes) {
      assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.w <= w + eps && b.y + b.h <= h + eps, JSON.stringify(b));
      const area = (b.w * b.h) / (w * h), ratio = b.w / b.h;
      assert.ok(
        area >= 0.5 - eps && area <= 0.7 + eps && ratio >= 0.75 - eps && ratio <= 1.33 + eps,
        JSON.stringify(b),
      );
    }
    if (w !== h) continue;
    uniformIn(boxes.map((b) => (b.w * b.h) / (w * h)), 0.5 - eps, 0.7 + eps, "area fraction");
    // Log-uniform: log(w/h) uniform on [log 0.75, log 1.33]. (Uniform in w/h would put the mean of
    // log(w/h) at +0.026, 10 standard errors away from the log-uniform mean −0.0013.)
    uniformIn(
      boxes.map((b) => Math.log(b.w / b.h)),
      Math.log(0.75) - eps,
      Math.log(1.33) + eps,
      "log aspect",
    );
    // Position uniform over the free space.
    uniformIn(boxes.map((b) => b.x / (w - b.w)), 0, 1, "relative x");
  }
});

Deno.test("resized_crop: when no box fits, the centred fallback clamps the aspect", () => {
  const [b] = draws({ kind: "resized_crop", area: [1, 1], ratio: [2, 2] }, "resized_crop").map((p) => p.box);
  // W/H = 4/3 < 2: full width, height W/2, centred.
  assert.deepEqual(b, { x: 0, y: (H - W / 2) / 2, w: W, h: W / 2 });
});

Deno.test("parameters are a function of (seed, split, index, view) alone", () => {
  const r = resolveSpec({ kind: "affine" });
  const a = sampleParams(r, viewRng(4, "train", 123, 2), W, H);
  assert.deepEqual(sampleParams(r, viewRng(4, "train", 123, 2), W, H), a);
  for (
    const other of [
      viewRng(5, "train", 123, 2),
      viewRng(4, "test", 123, 2),
      viewRng(4, "train", 124, 2),
      viewRng(4, "train", 123, 3),
    ]
  ) {
    assert.notDeepEqual(sampleParams(r, other, W, H), a);
  }
});

Deno.test("bad specs name the field", () => {
  assert.throws(
    () => resolveSpec({ kind: "rotation", degrees: [10, -10] }),
    (e: Error) =>
      e instanceof ConfigError &&
      /rotation\.degrees: \[10,-10\]: expected \[lo, hi\] with lo ≤ hi/.test(e.message),
  );
  assert.throws(() => resolveSpec({ kind: "affine", scale: [0, 1] }), /affine\.scale/);
  assert.throws(() => resolveSpec({ kind: "affine", translate: 1.5 }), /affine\.translate: 1\.5/);
  assert.throws(() => resolveSpec({ kind: "affine", shear: [-90, 0] }), /affine\.shear/);
  assert.throws(() => resolveSpec({ kind: "gaussian_noise", std: -1 }), /gaussian_noise\.std: -1/);
  assert.throws(() => resolveSpec({ kind: "resized_crop", area: [0.5, 1.5] }), /resized_crop\.area/);
  assert.throws(() => resolveSpec({ kind: "resized_crop", ratio: [0, 1] }), /resized_crop\.ratio/);
  assert.throws(() => resolveSpec({ kind: "blur" } as never), /augmentation kind: "blur"/);
});

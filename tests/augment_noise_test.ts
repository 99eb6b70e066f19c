// Gaussian noise: added after normalisation with the requested σ in normalised units. On a
// constant image normalised to exactly 0 the output is the noise itself; over n = 156,800 values
// the sample mean has standard error σ/√n and the sample σ about σ/√(2n), so 5-SE bounds (false
// failure < 1e-6; the draws are deterministic anyway) test the mean to ±0.013σ and σ to ±0.9 %.
import assert from "node:assert/strict";
import { augmentBatch } from "../src/augment/augment.ts";

const n = 200, side = 28, count = n * side * side;
const constant = { data: new Float32Array(count).fill(0.5), n, channels: 1, height: side, width: side };
const indices = Array.from({ length: n }, (_, i) => i);
const norm = { normalize: { mean: 0.5, std: 0.25 } }; // 0.5 → exactly 0

function moments(x: Float32Array) {
  let s = 0, s2 = 0, within = 0, lag = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i];
    s2 += x[i] * x[i];
    if (i > 0) lag += x[i] * x[i - 1];
  }
  const mean = s / x.length, sd = Math.sqrt(s2 / x.length - mean * mean);
  for (const v of x) if (Math.abs(v - mean) < sd) within++;
  return { mean, sd, within: within / x.length, lag1: lag / (x.length - 1) / (sd * sd) };
}

Deno.test("gaussian_noise: mean 0 and the requested σ in normalised units", () => {
  for (const sigma of [1, 0.3, 2]) {
    const out = augmentBatch(constant, indices, { kind: "gaussian_noise", std: sigma }, 0, "train", 0, norm);
    const m = moments(out);
    assert.ok(Math.abs(m.mean) < (5 * sigma) / Math.sqrt(count), `σ=${sigma}: mean ${m.mean}`);
    assert.ok(Math.abs(m.sd / sigma - 1) < 5 / Math.sqrt(2 * count), `σ=${sigma}: sd ${m.sd}`);
    // Gaussian shape: P(|z| < σ) = 0.6827, binomial SE √(p(1−p)/n) = 0.0012.
    assert.ok(
      Math.abs(m.within - 0.6827) < 5 * Math.sqrt((0.6827 * 0.3173) / count),
      `σ=${sigma}: within 1σ ${m.within}`,
    );
    // Neighbouring values (a Box–Muller cos/sin pair, or the next block) are uncorrelated: SE 1/√n.
    assert.ok(Math.abs(m.lag1) < 5 / Math.sqrt(count), `σ=${sigma}: lag-1 correlation ${m.lag1}`);
  }
});

Deno.test("gaussian_noise: the default is σ = 1, and σ = 0 is the clean normalised image", () => {
  const d = moments(augmentBatch(constant, indices, { kind: "gaussian_noise" }, 0, "train", 0, norm));
  assert.ok(Math.abs(d.sd - 1) < 5 / Math.sqrt(2 * count));
  const zero = augmentBatch(constant, indices, { kind: "gaussian_noise", std: 0 }, 0, "train", 0, norm);
  assert.ok(zero.every((v) => v === 0));
});

Deno.test("gaussian_noise: σ does not depend on the normalisation std (noise is added after it)", () => {
  const img = {
    data: Float32Array.from({ length: 4 * 64 }, (_, i) => (i % 17) / 16),
    n: 4,
    channels: 1,
    height: 8,
    width: 8,
  };
  const idx = [3, 1, 4, 1];
  for (const std of [0.25, 2]) {
    const opts = { normalize: { mean: 0.1, std } };
    const clean = augmentBatch(img, idx, { kind: "identity" }, 9, "test", 0, opts);
    const noisy = augmentBatch(img, idx, { kind: "gaussian_noise", std: 1 }, 9, "test", 0, opts);
    const noiseOnly = augmentBatch(
      { ...img, data: new Float32Array(img.data.length).fill(0.1) },
      idx,
      { kind: "gaussian_noise", std: 1 },
      9,
      "test",
      0,
      opts,
    );
    for (let k = 0; k < noisy.length; k++) {
      assert.ok(Math.abs(noisy[k] - clean[k] - noiseOnly[k]) < 1e-5, `std ${std}, value ${k}`);
    }
  }
});

Deno.test("gaussian_noise: each image and view gets its own noise", () => {
  const a = augmentBatch(constant, indices, { kind: "gaussian_noise" }, 0, "train", 0, norm);
  const b = augmentBatch(constant, indices, { kind: "gaussian_noise" }, 0, "train", 1, norm);
  const per = side * side;
  assert.notDeepEqual(a.subarray(0, per), a.subarray(per, 2 * per), "two images");
  assert.notDeepEqual(a.subarray(0, per), b.subarray(0, per), "two views");
  // Across images, noise is uncorrelated: correlation of image 0 and image 1 within 5/√784.
  let c = 0;
  for (let k = 0; k < per; k++) c += a[k] * a[per + k];
  assert.ok(Math.abs(c / per) < 5 / Math.sqrt(per));
});

// The corruption kinds (ImageNet-C's common corruptions at severity 1–5), compose and
// random_choice: determinism, growth with severity on real MNIST images, the reference's
// constants where they can be checked exactly, validation with located errors, and the
// semantics of the sequences (steps in order, derived streams, ops drawn per view).
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { augmentBatch, batchOf } from "../src/augment/augment.ts";
import { defocusKernel } from "../src/augment/kinds/defocus_blur.ts";
import { displacementField, ELASTIC_TABLE } from "../src/augment/kinds/elastic_transform.ts";
import { jpegRoundTrip, LUMINANCE, quantTable } from "../src/augment/jpeg.ts";
import { addGaussianNoise } from "../src/augment/noise.ts";
import { DRAW, viewRng } from "../src/augment/params.ts";
import { AUGMENTATIONS, type AugmentSpec, resolveSpec, transformBins } from "../src/augment/spec.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { ConfigError } from "../src/errors.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { cli, tempDir } from "./fixtures/harness.ts";
import { assertThrowsWith } from "./helpers.ts";

const CORRUPTIONS = AUGMENTATIONS.entries.filter((k) => "severity" in k.fields).map((k) => k.kind);
const RANDOM = new Set(AUGMENTATIONS.entries.filter((k) => k.random).map((k) => k.kind));
const test = loadMnist("test", { limit: 64 });
const { images, indices } = batchOf(test, Array.from({ length: 64 }, (_, i) => i));
const PER = 784;
const clean = augmentBatch(images, indices, { kind: "identity" }, 0, "test", 0);
const view = (spec: AugmentSpec, v = 0, seed = 5) => augmentBatch(images, indices, spec, seed, "test", v);
const meanAbsChange = (x: Float32Array) => x.reduce((a, v, k) => a + Math.abs(v - clean[k]), 0) / x.length;

Deno.test("corruptions: the ten families of ImageNet-C are registered with severity 1–5, default 3", () => {
  assert.deepEqual([...CORRUPTIONS].sort(), [
    "brightness",
    "contrast",
    "defocus_blur",
    "elastic_transform",
    "gaussian_blur",
    "gaussian_noise_c",
    "impulse_noise",
    "jpeg_compression",
    "pixelate",
    "shot_noise",
  ]);
  for (const kind of CORRUPTIONS) assert.deepEqual(resolveSpec({ kind }), { kind, severity: 3 });
});

Deno.test("corruptions: each is deterministic, in [0, 1], and draws afresh per view only when random", () => {
  for (const kind of [...CORRUPTIONS, "compose", "random_choice"]) {
    const spec: AugmentSpec = kind === "compose"
      ? { kind, steps: [{ kind: "impulse_noise" }, { kind: "gaussian_blur" }] }
      : kind === "random_choice"
      ? { kind, ops: CORRUPTIONS.map((k) => ({ kind: k })) }
      : { kind, severity: 4 };
    const a = view(spec, 1), b = view(spec, 1);
    assert.deepEqual(a, b, `${kind}: same view twice`);
    assert.ok(a.every((v) => v >= 0 && v <= 1), `${kind}: values in [0, 1]`);
    assert.notDeepEqual(a, clean, `${kind}: changes the images`);
    const other = view(spec, 2);
    if (RANDOM.has(kind)) assert.notDeepEqual(other, a, `${kind}: view 2 differs from view 1`);
    else assert.deepEqual(other, a, `${kind}: a fixed corruption is the same in every view`);
  }
});

Deno.test("corruptions: the mean absolute change of MNIST images grows with severity", () => {
  for (const kind of CORRUPTIONS) {
    const change = [1, 2, 3, 4, 5].map((severity) => meanAbsChange(view({ kind, severity })));
    // elastic_transform is ordered by its displacement field (below), not by the pixel change.
    const from = kind === "elastic_transform" ? 5 : 1;
    for (let s = from; s < 5; s++) {
      assert.ok(
        change[s] > change[s - 1],
        `${kind}: severity ${s + 1} (${change[s]}) ≤ ${s} (${change[s - 1]})`,
      );
    }
  }
});

Deno.test("corruptions: elastic_transform's displacement grows with severity while its affine jitter shrinks", () => {
  // CIFAR-C's table trades a shrinking affine jitter (0.08·S → 0.03·S) for a rougher field (σ
  // 0.2·S → 0.03·S, α 0 → 0.1·S), so the mean pixel change on MNIST falls with severity (0.083 →
  // 0.058 on these images); the mean displacement of the field is what grows.
  const shape = { channels: 1, height: 28, width: 28 };
  const mean = ELASTIC_TABLE.map(([alpha, sigma]) => {
    const d = displacementField(shape, alpha * 28, sigma * 28, new CounterRng(3, "field"), DRAW.pixels);
    return d.reduce((a, v) => a + Math.abs(v), 0) / d.length;
  });
  assert.equal(mean[0], 0, "severity 1 is the affine part alone");
  for (let s = 1; s < 5; s++) assert.ok(mean[s] > mean[s - 1], `severity ${s + 1}: ${mean}`);
  const jitter = ELASTIC_TABLE.map((c) => c[2]);
  for (let s = 1; s < 5; s++) assert.ok(jitter[s] < jitter[s - 1]);
});

Deno.test("corruptions: the reference's formulas where they can be checked exactly", () => {
  // contrast, brightness: closed forms on the clean pixels (grey images), clipped.
  const c = view({ kind: "contrast", severity: 2 });
  for (let i = 0; i < 4; i++) {
    const img = clean.subarray(i * PER, (i + 1) * PER), m = img.reduce((a, v) => a + v, 0) / PER;
    for (const k of [0, 200, 400, 600]) {
      assert.ok(Math.abs(c[i * PER + k] - ((img[k] - m) * 0.5 + m)) < 1e-6, `contrast image ${i} pixel ${k}`);
    }
  }
  const b = view({ kind: "brightness", severity: 5 });
  b.forEach((v, k) => assert.equal(v, Math.fround(Math.min(1, clean[k] + 0.3)), `brightness value ${k}`));
  // gaussian_noise_c: the clean pixel plus normal k of the view's stream × σ, clipped.
  const g = view({ kind: "gaussian_noise_c", severity: 1 }, 3);
  const noisy = clean.slice(7 * PER, 8 * PER);
  addGaussianNoise(noisy, 0.04, viewRng(5, "test", indices[7], 3));
  for (let k = 0; k < PER; k++) assert.equal(g[7 * PER + k], Math.min(1, Math.max(0, noisy[k])));
  // defocus_blur's disk: sums to 1 and is symmetric; radius 0.3 is a 3×3 Gaussian of σ 0.4.
  for (const [r, a] of [[0.3, 0.4], [1, 0.2], [1.5, 0.1]]) {
    const { kernel, size } = defocusKernel(r, a);
    assert.ok(Math.abs(kernel.reduce((x, y) => x + y, 0) - 1) < 1e-6, `disk(${r}) sums to 1`);
    for (let k = 0; k < kernel.length; k++) assert.equal(kernel[k], kernel[kernel.length - 1 - k]);
    if (r === 0.3) assert.equal(size, 3);
  }
  // jpeg: libjpeg's scaled tables (quality 50 is the standard table; 75 the familiar 8 6 5 8 …).
  assert.deepEqual(Array.from(quantTable(LUMINANCE, 50)), LUMINANCE);
  assert.deepEqual(Array.from(quantTable(LUMINANCE, 75)).slice(0, 8), [8, 6, 5, 8, 12, 20, 26, 31]);
  assert.ok(quantTable(LUMINANCE, 100).every((q) => q === 1));
  // Quality 100 (every step 1) is nearly lossless; a flat image survives any quality.
  const shape = { channels: 1, height: 28, width: 28 };
  const img = clean.slice(0, PER);
  const q100 = jpegRoundTrip(img, shape, 100);
  assert.ok(
    q100.every((v, k) => Math.abs(v - img[k]) <= 1 / 255 + 1e-7),
    "quality 100 within one grey level",
  );
  const flat = new Float32Array(PER).fill(128 / 255);
  assert.deepEqual(jpegRoundTrip(flat, shape, 10), flat);
  // RGB goes through YCbCr: a grey image in three channels has no chroma and comes back as the grey
  // path's, in every channel; colours survive quality 100 within a few levels.
  const rgb = { channels: 3, height: 28, width: 28 };
  const grey3 = new Float32Array(3 * PER);
  for (let c = 0; c < 3; c++) grey3.set(img, c * PER);
  const grey40 = jpegRoundTrip(img, shape, 40), rgb40 = jpegRoundTrip(grey3, rgb, 40);
  for (let c = 0; c < 3; c++) {
    assert.deepEqual(rgb40.subarray(c * PER, (c + 1) * PER), grey40, `channel ${c}`);
  }
  const colour = new CounterRng(2, "jpeg-colour").uniforms(3 * PER);
  const back = jpegRoundTrip(colour, rgb, 100);
  assert.ok(back.every((v, k) => Math.abs(v - colour[k]) <= 4 / 255), "quality 100 within 4 levels");
  // brightness on RGB keeps hue and saturation: channel ratios unchanged where nothing clips.
  const b3 = AUGMENTATIONS.get("brightness").corrupt!(
    { kind: "corruption", of: "brightness", severity: 1 },
    Float32Array.from(colour, (v) => v * 0.5),
    rgb,
    new CounterRng(0, "unused"),
  );
  for (const k of [0, 100, 500]) {
    const before = [0, 1, 2].map((c) => colour[c * PER + k]), after = [0, 1, 2].map((c) => b3[c * PER + k]);
    const v = Math.max(...before) * 0.5;
    assert.ok(Math.abs(Math.max(...after) - (v + 0.05)) < 1e-6, `value + 0.05 at ${k}`);
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(after[c] / Math.max(...after) - before[c] / Math.max(...before)) < 1e-5);
    }
  }
});

Deno.test("corruptions: shot and impulse noise have the reference's distributions", () => {
  const shape = { channels: 1, height: 100, width: 100 };
  const grey = () => new Float32Array(10000).fill(0.5);
  const shot = AUGMENTATIONS.get("shot_noise");
  const s = shot.corrupt!(
    { kind: "corruption", of: "shot_noise", severity: 5 },
    grey(),
    shape,
    new CounterRng(1, "t"),
  );
  // Poisson(25)/50: mean 0.5, variance 25/2500 = 0.01.
  const mean = s.reduce((a, v) => a + v, 0) / s.length;
  const variance = s.reduce((a, v) => a + (v - mean) ** 2, 0) / s.length;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `shot mean ${mean}`);
  assert.ok(Math.abs(variance - 0.01) < 0.001, `shot variance ${variance}`);
  assert.ok(s.every((v) => Number.isInteger(Math.round(v * 50 * 1e4) / 1e4)), "counts of 1/c");
  const impulse = AUGMENTATIONS.get("impulse_noise");
  const i = impulse.corrupt!(
    { kind: "corruption", of: "impulse_noise", severity: 5 },
    grey(),
    shape,
    new CounterRng(1, "t"),
  );
  const salt = i.filter((v) => v === 1).length, pepper = i.filter((v) => v === 0).length;
  // amount 0.07 of 10,000 values: 700 ± 26 flipped, half salt.
  assert.ok(Math.abs(salt + pepper - 700) < 100, `flipped ${salt + pepper}`);
  assert.ok(Math.abs(salt - pepper) < 100, `salt ${salt} pepper ${pepper}`);
  assert.equal(salt + pepper + i.filter((v) => v === 0.5).length, 10000);
});

Deno.test("corruptions: severity 0, 6 and 2.5 are refused naming the field", () => {
  for (const severity of [0, 6, 2.5]) {
    assertThrowsWith(() => resolveSpec({ kind: "pixelate", severity }), ConfigError, [
      "augmentation pixelate.severity",
      String(severity),
      "an integer ≥ 1 and ≤ 5",
    ]);
  }
  assertThrowsWith(
    () => resolveSpec({ kind: "compose", steps: [{ kind: "contrast", severity: 9 }] }),
    ConfigError,
    ["augmentation contrast.severity", "9"],
  );
  assertThrowsWith(() => resolveSpec({ kind: "compose", steps: [] }), ConfigError, ["compose.steps"]);
  assertThrowsWith(() => resolveSpec({ kind: "random_choice", ops: [{ kind: "nope" }] }), ConfigError, [
    "nope",
    "expected one of",
  ]);
});

Deno.test("corruptions: a matrix with severity 0 or 6 exits 2 with the file, line, column and field, writing nothing", async () => {
  await using tmp = await tempDir("corruption-severity");
  const matrix = (severity: number, nested: boolean) => ({
    schema: "invbench.matrix/v1",
    name: "bad-severity",
    version: "1.0.0",
    datasets: [{ id: "mnist", source: "mnist", train: { limit: 100 }, test: { limit: 50 } }],
    backbones: [{
      id: "fixture",
      onnx: "../../fixtures/backbones/mnist.onnx",
      input: { layout: "NCHW", size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] },
    }],
    augmentations: [
      { id: "ok", kind: "contrast" },
      nested
        ? { id: "bad", kind: "compose", steps: [{ kind: "identity" }, { kind: "pixelate", severity }] }
        : { id: "bad", kind: "pixelate", severity },
    ],
    methods: [{ id: "ec", kind: "none" }],
    classifiers: ["linear"],
    seeds: [0],
  });
  for (const [severity, nested] of [[0, false], [6, false], [6, true]] as const) {
    const file = `${tmp.dir}/bad_${severity}_${nested}.yaml`;
    const text = stringify(matrix(severity, nested));
    await Deno.writeTextFile(file, text);
    const out = `${tmp.dir}/out_${severity}_${nested}`;
    const r = await cli(["run", file, "--out", out]);
    assert.equal(r.code, 2, r.stderr);
    const line = text.split("\n").findIndex((l) => l.includes(`severity: ${severity}`)) + 1;
    const field = nested ? "augmentations[1].steps[1].severity" : "augmentations[1].severity";
    assert.ok(r.stderr.includes(`${file}: invalid matrix`), r.stderr);
    assert.match(r.stderr, new RegExp(`line ${line}, column \\d+: ${field.replace(/[.[\]]/g, "\\$&")}: Too`));
    assert.equal(await Deno.stat(out).then(() => true, () => false), false, "nothing written");
  }
});

Deno.test("compose: steps apply in order, each from its own derived stream", () => {
  // One fixed step is the kind itself, bit for bit.
  for (const kind of ["contrast", "pixelate", "jpeg_compression", "defocus_blur"]) {
    assert.deepEqual(
      view({ kind: "compose", steps: [{ kind, severity: 2 }] }),
      view({ kind, severity: 2 }),
      kind,
    );
  }
  // Two fixed steps: the second applied to the first's output, in pixel units.
  const first = view({ kind: "contrast", severity: 2 });
  const second = augmentBatch(
    { ...images, data: first },
    indices,
    { kind: "pixelate", severity: 5 },
    5,
    "test",
    0,
  );
  const both = view({
    kind: "compose",
    steps: [{ kind: "contrast", severity: 2 }, { kind: "pixelate", severity: 5 }],
  });
  assert.deepEqual(both, second);
  const reversed = view({
    kind: "compose",
    steps: [{ kind: "pixelate", severity: 5 }, { kind: "contrast", severity: 2 }],
  });
  assert.notDeepEqual(reversed, both, "order matters");
  // A random step draws from the view's stream derived by ("step", k).
  const noisy = view({
    kind: "compose",
    steps: [{ kind: "identity" }, { kind: "gaussian_noise_c", severity: 5 }],
  }, 4);
  for (const i of [0, 9]) {
    const want = clean.slice(i * PER, (i + 1) * PER);
    addGaussianNoise(want, 0.1, new CounterRng(viewRng(5, "test", indices[i], 4), "step", 1));
    for (let k = 0; k < PER; k++) {
      assert.equal(noisy[i * PER + k], Math.min(1, Math.max(0, want[k])), `image ${i} value ${k}`);
    }
  }
  // Two steps of one kind draw independently (their impulses fall in different places).
  const twice = view({ kind: "compose", steps: [{ kind: "impulse_noise" }, { kind: "impulse_noise" }] });
  const once = view({ kind: "impulse_noise" });
  const flipped = (x: Float32Array) => x.filter((v, k) => v !== clean[k]).length;
  assert.ok(flipped(twice) > 1.5 * flipped(once), `${flipped(twice)} vs ${flipped(once)}`);
  // A 90° rotation step is the rotation itself (exact), and steering bins follow it.
  const rot90 = { kind: "rotation", degrees: [90, 90] };
  assert.deepEqual(view({ kind: "compose", steps: [rot90] }), view(rot90));
  const bins = transformBins({ kind: "compose", steps: [{ kind: "contrast" }, { kind: "rotation" }] }, 4);
  assert.equal(bins.count, 4);
  assert.equal(bins.identity, null, "a contrast-reduced image is never clean");
  assert.equal(
    transformBins({ kind: "compose", steps: [{ kind: "identity" }, { kind: "rotation" }] }, 4).identity,
    0,
  );
});

Deno.test("random_choice: n ops per view drawn from the list, each at severity = magnitude", () => {
  const ops = [{ kind: "contrast", severity: 1 }, { kind: "brightness" }];
  const spec = { kind: "random_choice", ops, n: 1, magnitude: 4 };
  assert.deepEqual(resolveSpec(spec), {
    kind: "random_choice",
    ops: [{ kind: "contrast", severity: 4 }, { kind: "brightness", severity: 4 }],
    n: 1,
    magnitude: 4,
  });
  const contrast = view({ kind: "contrast", severity: 4 }),
    brightness = view({ kind: "brightness", severity: 4 });
  const seen = new Set<number>();
  for (const v of [0, 1, 2]) {
    const out = view(spec, v);
    for (let i = 0; i < 64; i++) {
      const pick = Math.floor(viewRng(5, "test", indices[i], v).uniform(DRAW.choice) * 2);
      seen.add(pick);
      const want = (pick === 0 ? contrast : brightness).subarray(i * PER, (i + 1) * PER);
      assert.deepEqual(out.subarray(i * PER, (i + 1) * PER), want, `view ${v} image ${i}: op ${pick}`);
    }
  }
  assert.deepEqual([...seen].sort(), [0, 1], "both ops drawn");
  // n = 2 from a single op: the op twice, in order.
  const one = view({ kind: "random_choice", ops: [{ kind: "contrast" }], n: 2, magnitude: 2 });
  const c2 = view({ kind: "contrast", severity: 2 });
  assert.deepEqual(
    one,
    augmentBatch({ ...images, data: c2 }, indices, { kind: "contrast", severity: 2 }, 5, "test", 0),
  );
  // Ops without a severity keep their own fields.
  assert.deepEqual(
    resolveSpec({ kind: "random_choice", ops: [{ kind: "rotation", degrees: [0, 10] }] }).ops,
    [
      { kind: "rotation", degrees: [0, 10] },
    ],
  );
});

/**
 * extractFeatures on real MNIST test images and real ONNX files, through a real on-disk cache:
 * second extractions compute nothing, a matrix sharing a backbone computes each feature set once,
 * augmented features match the augmentation + a float64 model reference, views do not depend on
 * chunking, corrupt entries are recomputed, and bad input stops before any work.
 */
import { BackboneError } from "../src/errors.ts";
import nodeAssert from "node:assert/strict";
import { augmentBatch, batchOf } from "../src/augment/augment.ts";
import { CHUNK_ROWS, extractFeatures, featureAugmentation } from "../src/backbone/extract.ts";
import { OnnxBackbone } from "../src/backbone/onnx_backbone.ts";
import { linearBackboneModel } from "../src/backbone/onnx_graph.ts";
import { FeatureCache, featureKey, listCache } from "../src/cache/feature_cache.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { assertClose as closeWithin } from "./helpers.ts";

const assert: (cond: unknown, msg?: string) => asserts cond = nodeAssert.ok;
const assertEquals = <T>(got: T, want: T, msg?: string) => nodeAssert.deepStrictEqual(got, want, msg);

/** helpers.ts's closeness check with positional tolerances: |got − want| ≤ atol + rtol·|want|. */
const assertClose = (
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
  what: string,
) => closeWithin(got, want, { atol, rtol }, what);

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const MEAN = [0.1307], STD = [0.3081];
const mnist = loadMnist("test");
const tmp = await Deno.makeTempDir({ prefix: "invbench-extract-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
let counter = 0;

const D = 12;
function linearWeights(k: number, label: string) {
  const rng = new CounterRng(0, "tests", "extract", label);
  return { weight: rng.normals(D * k, 0, 0.05), bias: rng.normals(D, 0, 0.5, D * k) };
}

async function loadLinear(
  opts: {
    channels?: number;
    size?: number;
    layout?: "NCHW" | "NHWC";
    resize?: "none" | "bilinear";
    post?: string;
  } = {},
) {
  const c = opts.channels ?? 1, s = opts.size ?? 28, layout = opts.layout ?? "NCHW";
  const w = linearWeights(c * s * s, `${c}-${s}-${layout}-${opts.post ?? ""}`);
  const path = `${tmp}/linear${counter++}.onnx`;
  await Deno.writeFile(
    path,
    linearBackboneModel({ layout, channels: c, height: s, width: s, ...w, post: opts.post }),
  );
  const backbone = await OnnxBackbone.load({
    onnx: path,
    input: { layout, size: [s, s], channels: c, resize: opts.resize ?? "none", mean: MEAN, std: STD },
  });
  return { backbone, w };
}

/** float64 W·x + b for rows of x ([n, k] float32, already the model input in NCHW = flatten order). */
function linearRef(x: Float32Array, w: { weight: Float32Array; bias: Float32Array }): Float64Array {
  const d = w.bias.length, k = w.weight.length / d, n = x.length / k;
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      let s = w.bias[j];
      for (let i = 0; i < k; i++) s += w.weight[j * k + i] * x[r * k + i];
      out[r * d + j] = s;
    }
  }
  return out;
}

function newCache(name: string, warnings: string[] = []): FeatureCache {
  return new FeatureCache({ dir: `${tmp}/cache-${name}`, onWarning: (m) => warnings.push(m) });
}

const first = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

Deno.test("extract: clean features through the cache; the second extraction computes nothing, same bytes", async () => {
  const { backbone } = await loadLinear();
  const cache = newCache("clean");
  try {
    const indices = first(2000);
    const a = await extractFeatures({ backbone, dataset: mnist, split: "test", indices, cache });
    assertEquals([a.rows, a.cols], [2000, D]);
    assertEquals(cache.stats.misses, 1);
    const runsAfterFirst = backbone.runs;
    const direct = await backbone.run({ data: mnist.images, shape: [mnist.n, 1, 28, 28] }, indices);
    assertEquals(bytesOf(a.data), bytesOf(direct));

    cache.resetStats();
    const b = await extractFeatures({ backbone, dataset: mnist, split: "test", indices, cache });
    assertEquals(cache.stats.misses, 0);
    assertEquals(cache.stats.recomputedCorrupt, 0);
    assertEquals(cache.stats.hits, 1);
    assertEquals(bytesOf(b.data), bytesOf(a.data));
    // A new process (new cache object on the same directory) computes nothing either.
    const again = new FeatureCache({ dir: cache.dir });
    const runsBefore = backbone.runs;
    const c = await extractFeatures({ backbone, dataset: mnist, indices, cache: again });
    assertEquals([again.stats.misses, again.stats.hits, backbone.runs], [0, 1, runsBefore]);
    assertEquals(bytesOf(c.data), bytesOf(a.data));
    assert(runsAfterFirst > 0);
    // The key holds the content hash, the backbone hash and "clean" without seed or view.
    assertEquals(a.key.dataset, mnist.contentHash);
    assertEquals(a.key.backbone.sha256, backbone.sha256);
    assertEquals([a.key.augmentation, a.key.seed, a.key.view], ["clean", null, null]);
    assertEquals(a.key.indices, { start: 0, count: 2000 });
  } finally {
    await backbone.close();
  }
});

Deno.test("extract: a matrix sharing one backbone over methods and seeds computes each feature set once", async () => {
  const { backbone } = await loadLinear();
  const cache = newCache("matrix");
  const rotation = { id: "rot", kind: "rotation" as const, degrees: [-180, 180] as [number, number] };
  const indices = first(500);
  try {
    const methods = ["ec", "mawa", "waco"], seeds = [0, 1], views = [0, 1, 2];
    for (const _method of methods) {
      for (const seed of seeds) {
        await extractFeatures({ backbone, dataset: mnist, indices, cache, seed }); // clean
        for (const view of views) {
          await extractFeatures({
            backbone,
            dataset: mnist,
            indices,
            cache,
            augmentation: rotation,
            seed,
            view,
          });
        }
      }
    }
    // 1 clean set (seed-independent) + 2 seeds × 3 views of rotation.
    assertEquals(cache.computed, 1 + seeds.length * views.length);
    assertEquals(cache.stats.hits, methods.length * seeds.length * (1 + views.length) - cache.computed);
    assertEquals((await listCache(cache.dir)).entries.length, 7);
    // An augmentation id is a name, not a parameter: renaming it reuses the features; defaults
    // are applied before keying, and a bad spec fails before any work.
    assertEquals(featureAugmentation(rotation).key, featureAugmentation({ kind: "rotation" }).key);
    nodeAssert.throws(() => featureAugmentation({ kind: "rotation", degrees: [5, -5] }), /rotation\.degrees/);
    cache.resetStats();
    await extractFeatures({
      backbone,
      dataset: mnist,
      indices,
      cache,
      augmentation: { ...rotation, id: "spin" },
      seed: 1,
      view: 2,
    });
    assertEquals(cache.stats.misses, 0);
  } finally {
    await backbone.close();
  }
});

Deno.test("extract: augmented features equal augmentBatch + a float64 model; views independent of chunking", async () => {
  const { backbone, w } = await loadLinear();
  const noise = { id: "noise", kind: "gaussian_noise" as const, std: 1 };
  const affine = { id: "affine", kind: "affine" as const };
  try {
    const some = Int32Array.from([3, 17, 4099, 9999, 250]);
    for (const spec of [affine, noise]) {
      const got = await extractFeatures({
        backbone,
        dataset: mnist,
        indices: some,
        augmentation: spec,
        seed: 5,
        view: 2,
      });
      const { images, indices } = batchOf(mnist, some);
      const x = augmentBatch(images, indices, spec, 5, "test", 2, { normalize: { mean: MEAN, std: STD } });
      assertClose(got.data, linearRef(x, w), 1e-4, 1e-4, `${spec.kind} features`);
    }
    // Rows beyond CHUNK_ROWS: the view of an image is the same in a long (chunked) and a short extraction.
    const long = first(CHUNK_ROWS + 200);
    const all = await extractFeatures({
      backbone,
      dataset: mnist,
      indices: long,
      augmentation: affine,
      seed: 1,
      view: 0,
    });
    const tail = Int32Array.from([5, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 150]);
    const part = await extractFeatures({
      backbone,
      dataset: mnist,
      indices: tail,
      augmentation: affine,
      seed: 1,
      view: 0,
    });
    tail.forEach((r, i) =>
      assertClose(
        part.data.subarray(i * D, i * D + D),
        all.data.subarray(r * D, r * D + D),
        1e-6,
        1e-6,
        `row ${r}`,
      )
    );
    // Seeds and views give different views; the same (seed, view) gives the same bytes.
    const again = await extractFeatures({
      backbone,
      dataset: mnist,
      indices: tail,
      augmentation: affine,
      seed: 1,
      view: 0,
    });
    assertEquals(bytesOf(again.data), bytesOf(part.data));
    const v1 = await extractFeatures({
      backbone,
      dataset: mnist,
      indices: tail,
      augmentation: affine,
      seed: 1,
      view: 1,
    });
    const s2 = await extractFeatures({
      backbone,
      dataset: mnist,
      indices: tail,
      augmentation: affine,
      seed: 2,
      view: 0,
    });
    assert(v1.data.some((v, i) => v !== part.data[i]), "view 1 differs from view 0");
    assert(s2.data.some((v, i) => v !== part.data[i]), "seed 2 differs from seed 1");
  } finally {
    await backbone.close();
  }
});

Deno.test("extract: identity augmentation equals clean features, also with 1 → 3 channels, resize and NHWC", async () => {
  for (const opts of [{}, { channels: 3, size: 14, layout: "NHWC" as const, resize: "bilinear" as const }]) {
    const { backbone } = await loadLinear(opts);
    try {
      const indices = first(64);
      const clean = await extractFeatures({ backbone, dataset: mnist, indices });
      const ident = await extractFeatures({
        backbone,
        dataset: mnist,
        indices,
        augmentation: { kind: "identity" },
        seed: 3,
      });
      assertClose(ident.data, clean.data, 1e-4, 1e-4, `identity vs clean ${JSON.stringify(opts)}`);
      assert(featureKey(ident.key) !== featureKey(clean.key));
    } finally {
      await backbone.close();
    }
  }
});

Deno.test("extract: a corrupt cache entry is recomputed with a warning, never used", async () => {
  const { backbone } = await loadLinear();
  const warnings: string[] = [];
  const cache = newCache("corrupt", warnings);
  try {
    const opts = {
      backbone,
      dataset: mnist,
      indices: first(300),
      cache,
      augmentation: { kind: "rotation_c4" as const },
      seed: 0,
    };
    const good = await extractFeatures(opts);
    const path = cache.entryPath(featureKey(good.key));
    const bytes = await Deno.readFile(path);
    const flipped = bytes.slice();
    flipped[bytes.length - 17] ^= 0x01;
    await Deno.writeFile(path, flipped);
    const runs = backbone.runs;
    const again = await extractFeatures(opts);
    assertEquals(cache.stats.recomputedCorrupt, 1);
    assert(backbone.runs > runs, "recomputed through the backbone");
    assertEquals(bytesOf(again.data), bytesOf(good.data));
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes(path));
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 100)); // truncated
    await extractFeatures(opts);
    assertEquals(cache.stats.recomputedCorrupt, 2);
    assertEquals(await Deno.readFile(path), bytes);
  } finally {
    await backbone.close();
  }
});

Deno.test("extract: bad input stops before the cache or the backbone is touched; NaN is never cached", async () => {
  const big = await loadLinear({ size: 32 }); // resize "none": MNIST's 28×28 does not fit
  const nan = await loadLinear({ post: "Log" }); // log of negative pre-activations: NaN
  const cache = newCache("bad");
  try {
    await nodeAssert.rejects(
      () => extractFeatures({ backbone: big.backbone, dataset: mnist, indices: first(10), cache }),
      (e: Error) =>
        e instanceof BackboneError && e.message.includes("[n, 1, 32, 32]") &&
        e.message.includes("[n, 1, 28, 28]"),
    );
    await nodeAssert.rejects(
      () => extractFeatures({ backbone: big.backbone, dataset: mnist, split: "train", cache }),
      (e: Error) => e instanceof BackboneError && e.message.includes(`split "train"`),
    );
    await nodeAssert.rejects(
      () => extractFeatures({ backbone: nan.backbone, dataset: mnist, indices: [0, 10000], cache }),
      (e: Error) => e instanceof BackboneError && e.message.includes("index 10000"),
    );
    assertEquals(big.backbone.runs + nan.backbone.runs, 0);
    assertEquals(cache.stats, { hits: 0, misses: 0, recomputedCorrupt: 0, writes: 0, writeErrors: 0 });
    await nodeAssert.rejects(
      () => extractFeatures({ backbone: nan.backbone, dataset: mnist, indices: first(50), cache }),
      (e: Error) => e instanceof BackboneError && /image \d+ /.test(e.message) && e.message.includes("NaN"),
    );
    assertEquals(cache.stats.writes, 0);
    assertEquals((await listCache(cache.dir)).entries, []);
  } finally {
    await big.backbone.close();
    await nan.backbone.close();
  }
});

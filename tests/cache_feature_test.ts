/**
 * The content-addressed feature cache on real files: keys, hits/misses, re-verification of every
 * hit, recovery from truncated / bit-flipped entries, atomic writes, ls / clear.
 */
import nodeAssert from "node:assert/strict";
import { canonicalJson } from "../src/util/canonical_json.ts";
import {
  CACHE_FORMAT_VERSION,
  clearCache,
  decodeEntry,
  defaultCacheDir,
  describeIndices,
  encodeEntry,
  FeatureCache,
  featureKey,
  type FeatureKeyFields,
  featureKeyJson,
  type FeatureMatrix,
  listCache,
} from "../src/cache/feature_cache.ts";

const assert: (cond: unknown, msg?: string) => asserts cond = nodeAssert.ok;
const assertEquals = <T>(got: T, want: T, msg?: string) => nodeAssert.deepStrictEqual(got, want, msg);
const assertNotEquals = <T>(got: T, want: T, msg?: string) => nodeAssert.notDeepStrictEqual(got, want, msg);
const assertStringIncludes = (s: string, part: string) =>
  nodeAssert.ok(s.includes(part), `expected ${JSON.stringify(s)} to include ${JSON.stringify(part)}`);
// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;
const matches = (cls: ErrorClass, part: string) => (e: unknown) =>
  e instanceof cls && e.message.includes(part) ||
  nodeAssert.fail(`expected ${cls.name} with "${part}", got ${e}`);
const assertThrows = (fn: () => unknown, cls: ErrorClass, part: string) =>
  nodeAssert.throws(fn, matches(cls, part));
const assertRejects = (fn: () => Promise<unknown>, cls: ErrorClass, part: string) =>
  nodeAssert.rejects(fn, matches(cls, part));

const baseFields: FeatureKeyFields = {
  backbone: { sha256: "a".repeat(64), output: "features", runtime: "onnxruntime-node@1.30.0" },
  dataset: "b".repeat(64),
  split: "test",
  indices: { start: 0, count: 100 },
  preprocess: { layout: "NCHW", size: [28, 28], channels: 1, resize: "none", mean: [0.1307], std: [0.3081] },
  augmentation: { kind: "rotation", degrees: [-180, 180], version: 1 },
  seed: 0,
  view: 0,
};

function matrix(rows: number, cols: number, salt = 0): FeatureMatrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37 + salt) * 3;
  return { rows, cols, data };
}

async function withCache(
  fn: (cache: FeatureCache, dir: string, warnings: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "invbench-cache-test-" });
  const warnings: string[] = [];
  try {
    await fn(new FeatureCache({ dir, onWarning: (m) => warnings.push(m) }), dir, warnings);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function counting(m: FeatureMatrix): { compute: () => Promise<FeatureMatrix>; calls: () => number } {
  let calls = 0;
  return {
    compute: () => {
      calls++;
      return Promise.resolve({ rows: m.rows, cols: m.cols, data: m.data.slice() });
    },
    calls: () => calls,
  };
}

Deno.test("canonical JSON sorts keys, keeps arrays in order, rejects what JSON cannot hold", () => {
  assertEquals(
    canonicalJson({ b: 1, a: [3, 1, { d: null, c: "x" }] }),
    '{"a":[3,1,{"c":"x","d":null}],"b":1}',
  );
  assertEquals(canonicalJson({ a: 1, skip: undefined }), '{"a":1}');
  assertEquals(canonicalJson(1e21), "1e+21");
  assertThrows(() => canonicalJson({ x: NaN }), TypeError, "$.x");
  assertThrows(() => canonicalJson({ x: [Infinity] }), TypeError, "$.x[0]");
  assertThrows(() => canonicalJson({ x: new Float32Array(2) }), TypeError, "Float32Array");
});

Deno.test("cache key: every determining input changes it; method-independent; clean ignores seed and view", () => {
  const k0 = featureKey(baseFields);
  assertEquals(k0, featureKey(structuredClone(baseFields)));
  // Field order of the spec objects does not matter.
  assertEquals(
    k0,
    featureKey({
      ...baseFields,
      preprocess: Object.fromEntries(Object.entries(baseFields.preprocess).reverse()),
    }),
  );
  const variants: [string, FeatureKeyFields][] = [
    ["backbone bytes", { ...baseFields, backbone: { ...baseFields.backbone, sha256: "c".repeat(64) } }],
    ["backbone output", { ...baseFields, backbone: { ...baseFields.backbone, output: "relu" } }],
    ["runtime", { ...baseFields, backbone: { ...baseFields.backbone, runtime: "onnxruntime-node@1.31.0" } }],
    ["dataset", { ...baseFields, dataset: "d".repeat(64) }],
    ["split", { ...baseFields, split: "train" }],
    ["limit", { ...baseFields, indices: { start: 0, count: 99 } }],
    ["offset", { ...baseFields, indices: { start: 1, count: 100 } }],
    ["subset", { ...baseFields, indices: describeIndices([0, 2, 4]) }],
    ["mean", { ...baseFields, preprocess: { ...baseFields.preprocess, mean: [0.5] } }],
    ["std", { ...baseFields, preprocess: { ...baseFields.preprocess, std: [0.5] } }],
    ["layout", { ...baseFields, preprocess: { ...baseFields.preprocess, layout: "NHWC" } }],
    ["resize", { ...baseFields, preprocess: { ...baseFields.preprocess, resize: "bilinear" } }],
    ["augmentation params", {
      ...baseFields,
      augmentation: { kind: "rotation", degrees: [-90, 90], version: 1 },
    }],
    ["augmentation kind", { ...baseFields, augmentation: { kind: "gaussian_noise", std: 1, version: 1 } }],
    ["augmentation code version", {
      ...baseFields,
      augmentation: { kind: "rotation", degrees: [-180, 180], version: 2 },
    }],
    ["clean", { ...baseFields, augmentation: "clean" }],
    ["seed", { ...baseFields, seed: 1 }],
    ["view", { ...baseFields, view: 1 }],
  ];
  const seen = new Map<string, string>([[k0, "base"]]);
  for (const [what, fields] of variants) {
    const k = featureKey(fields);
    assert(!seen.has(k), `changing ${what} gave the same key as ${seen.get(k)}`);
    seen.set(k, what);
  }
  // The format version is part of the key JSON.
  assertStringIncludes(featureKeyJson(baseFields), `"format":${CACHE_FORMAT_VERSION}`);
  // Clean features do not depend on seed or view: one entry serves every seed.
  const clean = { ...baseFields, augmentation: "clean" as const };
  assertEquals(featureKey(clean), featureKey({ ...clean, seed: 7, view: 3 }));
  // A contiguous index list is the same selection as the range.
  assertEquals(describeIndices([5, 6, 7]), { start: 5, count: 3 });
  assertEquals(describeIndices(Int32Array.from([5, 6, 7])), describeIndices([5, 6, 7]));
  assertNotEquals(describeIndices([5, 7, 6]), describeIndices([5, 6, 7]));
  assertThrows(() => describeIndices([1, -1]), RangeError, "index 1");
});

Deno.test("cache: a second extraction computes nothing and returns identical bytes", async () => {
  await withCache(async (cache, dir, warnings) => {
    const m = matrix(37, 11);
    const c = counting(m);
    const first = await cache.getOrCompute(baseFields, c.compute);
    assertEquals(cache.stats, { hits: 0, misses: 1, recomputedCorrupt: 0, writes: 1, writeErrors: 0 });
    const path = cache.entryPath(featureKey(baseFields));
    const bytesAfterFirst = await Deno.readFile(path);
    const second = await cache.getOrCompute(baseFields, c.compute);
    assertEquals(c.calls(), 1);
    assertEquals(cache.stats.misses, 0 + 1);
    assertEquals(cache.stats.hits, 1);
    assertEquals(cache.computed, 1);
    assertEquals(new Uint8Array(second.data.buffer), new Uint8Array(first.data.buffer));
    assertEquals([second.rows, second.cols], [37, 11]);
    assertEquals(await Deno.readFile(path), bytesAfterFirst);
    // A fresh cache object on the same directory (a second process) also hits.
    const again = new FeatureCache({ dir });
    await again.getOrCompute(baseFields, c.compute);
    assertEquals(again.stats.misses, 0);
    assertEquals(again.stats.hits, 1);
    assertEquals(c.calls(), 1);
    // A different key misses.
    await cache.getOrCompute({ ...baseFields, view: 1 }, c.compute);
    assertEquals(cache.stats.misses, 2);
    assertEquals(warnings, []);
  });
});

Deno.test("cache: a truncated entry is detected, deleted, recomputed and reported", async () => {
  await withCache(async (cache, _dir, warnings) => {
    const c = counting(matrix(20, 8));
    const good = await cache.getOrCompute(baseFields, c.compute);
    const path = cache.entryPath(featureKey(baseFields));
    const bytes = await Deno.readFile(path);
    for (const cut of [bytes.length - 4, bytes.length - 1, 70, 10, 0]) {
      await Deno.writeFile(path, bytes.subarray(0, cut));
      const before = cache.stats.recomputedCorrupt;
      const got = await cache.getOrCompute(baseFields, c.compute);
      assertEquals(cache.stats.recomputedCorrupt, before + 1, `cut at ${cut}`);
      assertEquals(got.data, good.data);
      assertEquals(await Deno.readFile(path), bytes, "rewritten entry equals the original");
    }
    assertEquals(c.calls(), 6);
    assertEquals(warnings.length, 5);
    assertStringIncludes(warnings[0], path);
    assertStringIncludes(warnings[0], "corrupt");
  });
});

Deno.test("cache: a flipped payload or header byte is detected by the hashes and recomputed", async () => {
  await withCache(async (cache, _dir, warnings) => {
    const c = counting(matrix(20, 8, 1));
    const good = await cache.getOrCompute(baseFields, c.compute);
    const key = featureKey(baseFields);
    const path = cache.entryPath(key);
    const bytes = await Deno.readFile(path);
    const flips: [string, number][] = [
      ["last payload byte", bytes.length - 1],
      ["a payload byte", bytes.length - 200],
      ["magic", 0],
      ["rows", 16],
      ["payload hash", 30],
      ["key JSON", 70],
    ];
    for (const [what, at] of flips) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      assertEquals(typeof decodeEntry(bad, key), "string", what);
      await Deno.writeFile(path, bad);
      const got = await cache.getOrCompute(baseFields, c.compute);
      assertEquals(got.data, good.data, what);
    }
    assertEquals(cache.stats.recomputedCorrupt, flips.length);
    assertEquals(c.calls(), 1 + flips.length);
    assertEquals(warnings.length, flips.length);
    assertStringIncludes(warnings[0], "payload sha256 mismatch");
    // An entry copied under another key's name is not trusted either.
    const other = featureKey({ ...baseFields, seed: 9 });
    await Deno.copyFile(path, cache.entryPath(other));
    assertEquals(await cache.read(other), "corrupt");
  });
});

Deno.test("cache: a temp file of an interrupted write is never used or listed, and clear removes it", async () => {
  await withCache(async (cache, dir) => {
    const key = featureKey(baseFields);
    // A writer killed before its rename leaves `.<key>.<pid>-<rand>.tmp`, here even complete and
    // valid, plus a half-written one.
    const full = encodeEntry(featureKeyJson(baseFields), matrix(5, 3, 2));
    await Deno.writeFile(`${dir}/.${key}.12345-abcdef.tmp`, full);
    await Deno.writeFile(`${dir}/.${key}.12346-abcdef.tmp`, full.subarray(0, 50));
    await Deno.writeFile(`${dir}/notes.txt`, new TextEncoder().encode("not a cache file"));
    // Hidden temp files of other programs sharing the directory are not the cache's.
    await Deno.writeFile(`${dir}/.notes.tmp`, new TextEncoder().encode("someone's draft"));
    await Deno.writeFile(`${dir}/.report.12347-abcdef.tmp`, new TextEncoder().encode("someone's write"));
    let listing = await listCache(dir);
    assertEquals(listing.entries, []);
    assertEquals(listing.tempFiles, 2);
    assertEquals(await cache.read(key), null);
    const c = counting(matrix(5, 3, 7));
    const got = await cache.getOrCompute(baseFields, c.compute);
    assertEquals(cache.stats.misses, 1);
    assertEquals(got.data, matrix(5, 3, 7).data, "the computed features, not the temp file's");

    listing = await listCache(dir, { verify: true });
    assertEquals(listing.entries.length, 1);
    const [e] = listing.entries;
    assertEquals([e.key, e.rows, e.cols, e.status], [key, 5, 3, "ok"]);
    assertEquals((e.fields as { split: string }).split, "test");
    assertEquals(listing.bytes, e.bytes);

    // A corrupt entry is listed as such.
    const other = featureKey({ ...baseFields, view: 2 });
    await Deno.writeFile(cache.entryPath(other), full.subarray(0, 100));
    listing = await listCache(dir);
    assertStringIncludes(listing.entries.find((x) => x.key === other)!.status, "corrupt");

    const cleared = await clearCache(dir);
    assertEquals(cleared.removed, 4);
    const left = [];
    for await (const f of Deno.readDir(dir)) left.push(f.name);
    assertEquals(
      left.sort(),
      [".notes.tmp", ".report.12347-abcdef.tmp", "notes.txt"],
      "clear leaves files it did not write",
    );
    assertEquals((await listCache(`${dir}/missing`)).entries, []);
    assertEquals((await clearCache(`${dir}/missing`)).removed, 0);
  });
});

Deno.test("cache: a write leaves no temp file behind, and a killed writer leaves no entry", async () => {
  await withCache(async (cache, dir) => {
    // A child process that writes a big entry and is killed mid-way: whatever it left, the entry
    // name is either absent or complete and valid.
    const key = featureKey(baseFields);
    const script = `
      import { FeatureCache } from ${
      JSON.stringify(new URL("../src/cache/feature_cache.ts", import.meta.url).href)
    };
      const cache = new FeatureCache({ dir: ${JSON.stringify(dir)} });
      console.log("ready");
      await cache.getOrCompute(${JSON.stringify(baseFields)}, async () => {
        const rows = 4096, cols = 4096, data = new Float32Array(rows * cols).fill(1.5);
        return { rows, cols, data };
      });
      console.log("done");
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(script));
    await w.close();
    const reader = child.stdout.getReader();
    await reader.read(); // "ready"
    // Kill as soon as a temp file appears (or the entry, if the writer was quicker).
    const t0 = performance.now();
    let sawTemp = false;
    while (performance.now() - t0 < 10_000) {
      const names = [];
      for await (const f of Deno.readDir(dir)) names.push(f.name);
      if (names.some((n) => n.endsWith(".tmp"))) {
        sawTemp = true;
        break;
      }
      if (names.some((n) => n.endsWith(".feat"))) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const entry = await cache.read(key);
    if (entry !== null) {
      assert(entry !== "corrupt", "a killed writer must never leave a corrupt entry under the key");
      assertEquals(entry.rows, 4096);
    }
    if (sawTemp && entry === null) {
      const listing = await listCache(dir);
      assertEquals(listing.entries, [], "the partial write is not an entry");
      assert(listing.tempFiles >= 1, "the killed writer's temp file is still there (and ignored)");
    }
    await clearCache(dir);

    // A normal write leaves exactly one file.
    await cache.getOrCompute(baseFields, counting(matrix(3, 3)).compute);
    const names = [];
    for await (const f of Deno.readDir(dir)) names.push(f.name);
    assertEquals(names, [`${key}.feat`]);
  });
});

Deno.test("cache: concurrent requests for one key compute once; disabled cache always computes", async () => {
  await withCache(async (cache, dir) => {
    const c = counting(matrix(4, 4));
    const [a, b] = await Promise.all([
      cache.getOrCompute(baseFields, c.compute),
      cache.getOrCompute(baseFields, c.compute),
    ]);
    assertEquals(c.calls(), 1);
    assertEquals(a.data, b.data);
    const off = new FeatureCache({ dir, enabled: false });
    await off.getOrCompute(baseFields, c.compute);
    await off.getOrCompute(baseFields, c.compute);
    assertEquals(off.stats.misses, 2);
    assertEquals(c.calls(), 3);
    // A compute that returns a wrongly sized matrix is an error, and nothing is written.
    await assertRejects(
      () =>
        cache.getOrCompute(
          { ...baseFields, view: 5 },
          () => Promise.resolve({ rows: 2, cols: 2, data: new Float32Array(3) }),
        ),
      RangeError,
      "expected 2×2",
    );
    assertEquals((await listCache(dir)).entries.length, 1);
  });
});

Deno.test("cache: a failed write is a warning; the computed features are still returned", async () => {
  await withCache(async (_cache, dir) => {
    const notADir = `${dir}/file`;
    await Deno.writeFile(notADir, new Uint8Array([1]));
    const warnings: string[] = [];
    const cache = new FeatureCache({ dir: notADir, onWarning: (m) => warnings.push(m) });
    const got = await cache.getOrCompute(baseFields, counting(matrix(3, 2)).compute);
    assertEquals(got.data, matrix(3, 2).data);
    assertEquals([cache.stats.misses, cache.stats.writes, cache.stats.writeErrors], [1, 0, 1]);
    assertEquals(warnings.length, 1);
    assertStringIncludes(warnings[0], "could not write");
    // Every further failed write is counted, not warned about again.
    await cache.getOrCompute({ ...baseFields, view: 5 }, counting(matrix(3, 2)).compute);
    assertEquals([cache.stats.writeErrors, warnings.length], [2, 1]);
  });
});

Deno.test("cache: default directory is the project's .cache/invbench/features, INVBENCH_CACHE_DIR overrides it", async () => {
  // In a child process: the environment is process-wide and other test files run beside this one.
  const module = new URL("../src/cache/feature_cache.ts", import.meta.url).href;
  const dirs = async (env: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { defaultCacheDir, FeatureCache } from ${JSON.stringify(module)};` +
        `console.log(JSON.stringify([defaultCacheDir(), new FeatureCache().dir, new FeatureCache({ dir: "/tmp/option" }).dir]));`,
      ],
      env: { INVBENCH_CACHE_DIR: env },
      stdout: "piped",
    }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  const projectDir = new URL("../.cache/invbench/features", import.meta.url).pathname;
  assertEquals(await dirs(""), [projectDir, projectDir, "/tmp/option"]);
  assertEquals(await dirs("/tmp/elsewhere"), ["/tmp/elsewhere", "/tmp/elsewhere", "/tmp/option"]);
  assertEquals(new FeatureCache({ dir: "/tmp/option" }).dir, "/tmp/option");
  assertEquals(typeof defaultCacheDir(), "string");
});

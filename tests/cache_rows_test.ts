/**
 * Feature rows read on demand (src/cache/feature_rows.ts, FeatureCache.openRows): an extraction
 * streamed into a cache entry is the entry `getOrCompute` writes, byte for byte; rows come back in
 * any order, into a reused buffer; a hit is verified and a corrupt entry recomputed; an extraction
 * that fails leaves nothing; without a cache the rows go to a temp file that is gone once open; a
 * small entry is read whole and a large one by position, with the same rows either way.
 */
import assert from "node:assert/strict";
import { encodeEntry, FeatureCache, featureKey, featureKeyJson } from "../src/cache/feature_cache.ts";
import type { FeatureKeyFields } from "../src/cache/feature_cache.ts";
import { type FeatureStream, fileRows } from "../src/cache/feature_rows.ts";
import { tempDir } from "./fixtures/harness.ts";
import { uniforms } from "./helpers.ts";

const ROWS = 1000, COLS = 7;
const DATA = uniforms("cache-rows", ROWS * COLS);
const FIELDS: FeatureKeyFields = {
  backbone: { sha256: "b".repeat(64), output: "features", runtime: "test" },
  dataset: "d".repeat(64),
  split: "train",
  indices: { start: 0, count: ROWS },
  preprocess: {},
  augmentation: "clean",
  seed: null,
  view: null,
};

/** DATA in chunks of 300 rows; `calls.n` counts the streams made. */
function streamOf(calls: { n: number }, failAt = -1): () => FeatureStream {
  return () => {
    calls.n++;
    return {
      rows: ROWS,
      cols: COLS,
      chunks: async function* () {
        for (let r = 0; r < ROWS; r += 300) {
          if (r >= failAt && failAt >= 0) throw new Error("the backbone failed");
          await Promise.resolve();
          yield DATA.slice(r * COLS, Math.min(ROWS, r + 300) * COLS);
        }
      },
    };
  };
}

const rowsOf = (indices: number[]) => {
  const out = new Float32Array(indices.length * COLS);
  indices.forEach((i, k) => out.set(DATA.subarray(i * COLS, (i + 1) * COLS), k * COLS));
  return out;
};

Deno.test("cache rows: a streamed entry is getOrCompute's entry, read back by row", async () => {
  await using tmp = await tempDir("cache-rows");
  const cache = new FeatureCache({ dir: tmp.dir, onWarning: () => {} });
  const calls = { n: 0 };
  const rows = await cache.openRows(FIELDS, streamOf(calls));
  try {
    assert.equal(calls.n, 1);
    assert.deepEqual(
      await Deno.readFile(cache.entryPath(featureKey(FIELDS))),
      encodeEntry(featureKeyJson(FIELDS), { rows: ROWS, cols: COLS, data: DATA }),
    );
    const picks = [5, 6, 7, 999, 0, 500, 501, 3];
    assert.deepEqual(rows.read(picks), rowsOf(picks));
    const buffer = new Float32Array(20 * COLS).fill(-1);
    const got = rows.read([2, 1], buffer);
    assert.equal(got.buffer, buffer.buffer, "read into the buffer given");
    assert.deepEqual(got, rowsOf([2, 1]));
    assert.throws(() => rows.read([ROWS]), RangeError);
  } finally {
    rows.close();
  }
  assert.deepEqual(cache.stats, { hits: 0, misses: 1, recomputedCorrupt: 0, writes: 1, writeErrors: 0 });
});

Deno.test("cache rows: a hit is verified, a corrupt entry is recomputed", async () => {
  await using tmp = await tempDir("cache-rows-hit");
  const warnings: string[] = [];
  const cache = new FeatureCache({ dir: tmp.dir, onWarning: (m) => warnings.push(m) });
  const calls = { n: 0 };
  (await cache.openRows(FIELDS, streamOf(calls))).close();
  const hit = await cache.openRows(FIELDS, streamOf(calls));
  assert.deepEqual(hit.read([10, 11]), rowsOf([10, 11]));
  hit.close();
  assert.equal(calls.n, 1, "the hit computed nothing");
  const path = cache.entryPath(featureKey(FIELDS));
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 5] ^= 0x40; // a flipped bit in the payload
  await Deno.writeFile(path, bytes);
  const again = await cache.openRows(FIELDS, streamOf(calls));
  assert.deepEqual(again.read([ROWS - 1]), rowsOf([ROWS - 1]));
  again.close();
  assert.equal(calls.n, 2);
  assert.equal(cache.stats.recomputedCorrupt, 1);
  assert.match(warnings.join("\n"), /is corrupt \(payload sha256 mismatch\)/);
});

Deno.test("cache rows: a failing extraction propagates and leaves no entry or temp file", async () => {
  await using tmp = await tempDir("cache-rows-fail");
  const cache = new FeatureCache({ dir: tmp.dir, onWarning: () => {} });
  await assert.rejects(cache.openRows(FIELDS, streamOf({ n: 0 }, 600)), /the backbone failed/);
  assert.deepEqual([...Deno.readDirSync(tmp.dir)], []);
  assert.equal(cache.stats.writeErrors, 0, "not taken for a failed write");
});

Deno.test("cache rows: without a cache the rows go to a temp file that is unlinked once open", async () => {
  await using tmp = await tempDir("cache-rows-off");
  const cache = new FeatureCache({ dir: `${tmp.dir}/cache`, enabled: false });
  const spills = () =>
    [...Deno.readDirSync(Deno.env.get("TMPDIR") ?? "/tmp")].filter((e) =>
      e.name.startsWith("invbench-spill-")
    ).length;
  const before = spills();
  const rows = await cache.openRows(FIELDS, streamOf({ n: 0 }));
  assert.equal(spills(), before, "the spill file has no name left");
  assert.deepEqual(rows.read([42, 7]), rowsOf([42, 7]));
  rows.close();
  assert.throws(() => rows.read([0]), /read after close/);
  await assert.rejects(Deno.stat(`${tmp.dir}/cache`), Deno.errors.NotFound);
});

Deno.test("cache rows: an entry read whole and one read by position give the same rows", async () => {
  await using tmp = await tempDir("cache-rows-whole");
  const cache = new FeatureCache({ dir: tmp.dir, onWarning: () => {} });
  (await cache.openRows(FIELDS, streamOf({ n: 0 }))).close();
  const path = cache.entryPath(featureKey(FIELDS));
  const offset = (await Deno.readFile(path)).length - ROWS * COLS * 4;
  const whole = fileRows(path, offset, ROWS, COLS, ROWS * COLS * 4);
  const byPosition = fileRows(path, offset, ROWS, COLS, ROWS * COLS * 4 - 1);
  const picks = [999, 0, 1, 2, 500, 17, 17];
  assert.deepEqual(whole.read(picks), rowsOf(picks));
  assert.deepEqual(byPosition.read(picks), rowsOf(picks));
  for (const rows of [whole, byPosition]) {
    rows.close();
    assert.throws(() => rows.read([0]), /read after close/);
  }
});

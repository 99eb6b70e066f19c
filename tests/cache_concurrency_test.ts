/**
 * A feature cache shared by several processes (shards on one node, or nodes on a network
 * filesystem): four processes write the same entries at the same time and read them between
 * writes. Every read sees an entry absent or whole (atomic rename), never torn or corrupt; in the
 * end every entry verifies, holds what every writer wrote, and no temp file is left behind.
 */
import assert from "node:assert/strict";
import { featureKey, listCache } from "../src/cache/feature_cache.ts";
import { entryData, entryFields } from "./fixtures/cache_writer.ts";
import { FeatureCache } from "../src/cache/feature_cache.ts";
import { ROOT, tempDir } from "./fixtures/harness.ts";

const WRITERS = 4, ENTRIES = 12, ROUNDS = 6;

Deno.test("cache: concurrent writers of the same entries never leave a torn or corrupt entry", async () => {
  await using t = await tempDir("cache-concurrency");
  const children = Array.from({ length: WRITERS }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/tests/fixtures/cache_writer.ts`, t.dir, String(ENTRIES), String(ROUNDS)],
      stdout: "piped",
      stderr: "piped",
    }).output());
  const outputs = await Promise.all(children);
  let reads = 0;
  for (const o of outputs) {
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    const r = JSON.parse(new TextDecoder().decode(o.stdout));
    assert.deepEqual({ wrong: r.wrong, corrupt: r.corrupt, warnings: r.warnings }, {
      wrong: 0,
      corrupt: 0,
      warnings: [],
    });
    assert.equal(r.writes, ENTRIES * ROUNDS);
    reads += r.whole + r.absent;
  }
  assert.equal(reads, WRITERS * ENTRIES * ROUNDS);

  const listing = await listCache(t.dir, { verify: true });
  assert.equal(listing.tempFiles, 0, "a temp file of a write was left behind");
  assert.equal(listing.entries.length, ENTRIES);
  assert.deepEqual(listing.entries.map((e) => e.status), new Array(ENTRIES).fill("ok"));
  const cache = new FeatureCache({ dir: t.dir });
  for (let k = 0; k < ENTRIES; k++) {
    const got = await cache.read(featureKey(entryFields(k)));
    assert.ok(got && got !== "corrupt", `entry ${k}`);
    assert.deepEqual(got.data, entryData(k).data);
  }
});

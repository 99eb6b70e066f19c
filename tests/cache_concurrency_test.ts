/**
 * A feature cache shared by several processes (shards on one node, or nodes on a network
 * filesystem): four processes write the same entries at the same time and read them between
 * writes. Every read sees an entry absent or whole (atomic rename), never torn or corrupt; in the
 * end every entry verifies, holds what every writer wrote, and no temp file is left behind.
 */
import assert from "node:assert/strict";
import { featureKey, featureKeyJson, listCache } from "../src/cache/feature_cache.ts";
import { TEMP_HOST_TAG } from "../src/util/atomic_write.ts";
import { entryData, entryFields } from "./fixtures/cache_writer.ts";
import { FeatureCache } from "../src/cache/feature_cache.ts";
import { listDir, ROOT, tempDir } from "./fixtures/harness.ts";

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

Deno.test("cache: a starting run removes only its own host's dead writers' temp files, not another node's", async () => {
  await using t = await tempDir("cache-hosts");
  const cache = new FeatureCache({ dir: t.dir });
  const key = featureKey(entryFields(0));
  await cache.write(key, featureKeyJson(entryFields(0)), entryData(0));
  // A temp file of this host's dead writer (pid 2^22 + 1 is above Linux's pid_max default) and one
  // written by a node elsewhere on a shared filesystem, whose pid means nothing here.
  const dead = `.${key}.feat.${TEMP_HOST_TAG}.4194305-0123456789ab.tmp`;
  const otherNode = `.${key}.feat.${
    TEMP_HOST_TAG === "00000000" ? "11111111" : "00000000"
  }.4194305-0123456789ab.tmp`;
  for (const name of [dead, otherNode]) await Deno.writeTextFile(`${t.dir}/${name}`, "partial");
  assert.equal(await cache.removeStaleTemps(() => false), 1);
  assert.deepEqual((await listDir(t.dir)).filter((n) => n.endsWith(".tmp")), [otherNode]);
  assert.equal((await listCache(t.dir)).tempFiles, 1);
});

/**
 * The cache's threat model (docs/reliability.md): an entry rewritten with a recomputed header
 * passes the cache's own checks and changes results, so `reproduce` never reads a cache unless
 * `--cache` asks it to. Real MNIST, the fixture backbone, a real poisoned cache entry.
 */
import assert from "node:assert/strict";
import { encodeEntry, listCache } from "../src/cache/feature_cache.ts";
import { oneCell, tempDir, tinyMatrix } from "./fixtures/harness.ts";
import { cli } from "./fixtures/harness.ts";

/** Rewrites every entry of `dir` with zero features and a header that matches them. */
async function poison(dir: string): Promise<number> {
  const { entries } = await listCache(dir);
  for (const e of entries) {
    const bytes = await Deno.readFile(e.path);
    const keyLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(56, true);
    const keyJson = new TextDecoder().decode(bytes.subarray(60, 60 + keyLength));
    const zeros = { rows: e.rows!, cols: e.cols!, data: new Float32Array(e.rows! * e.cols!) };
    await Deno.writeFile(e.path, encodeEntry(keyJson, zeros));
  }
  const verified = await listCache(dir, { verify: true });
  assert.ok(verified.entries.every((e) => e.status === "ok"), "the rewritten entries pass verification");
  return entries.length;
}

Deno.test("reproduce: a rewritten cache entry cannot make a result reproduce unless --cache trusts it", async () => {
  await using t = await tempDir("reproduce-cache");
  const matrix = await tinyMatrix(t.dir);
  const cache = `${t.dir}/cache`;
  const run = await oneCell(matrix, `${t.dir}/out`, t.dir);
  assert.equal(run.code, 0, run.stderr);
  assert.ok((await poison(cache)) > 0);

  const reproduce = (out: string, extra: string[] = []) =>
    cli(
      ["reproduce", `${t.dir}/out/result.json`, "--cells", "1", "--out", out, "--backend", "cpu", ...extra],
      {
        // Even the default cache directory is the poisoned one.
        env: { INVBENCH_CACHE_DIR: cache },
      },
    );
  const clean = await reproduce(`${t.dir}/r1`, ["--json"]);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  const report = JSON.parse(clean.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.comparison.compared, 1);

  const trusted = await reproduce(`${t.dir}/r2`, ["--cache", cache]);
  assert.equal(trusted.code, 4, trusted.stdout + trusted.stderr);
  assert.match(trusted.stdout, /result: MISMATCH/);
});

/**
 * A result must cover every cell of its tracks' groups to be submitted or ranked. The acceptance
 * case: the default reference result cut to one shard's 8 of its 30 rows (summary recomputed so
 * the document is consistent) and re-signed by a trusted key is refused by `submit` (exit 2, the
 * missing cells named) and left out by `leaderboard build`; the whole result, re-signed the same
 * way, is accepted onto both default tracks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildLeaderboard } from "../src/leaderboard/build.ts";
import { expandMatrix, MatrixSpec } from "../src/catalogs.ts";
import { shardCells } from "../src/matrix/expand.ts";
import { readResult } from "../src/results/schema.ts";
import { summarizeRows } from "../src/results/table.ts";
import { cli, listDir, tempDir } from "./fixtures/harness.ts";
import { jwksOf, ROOT, signed } from "./fixtures/leaderboard/helpers.ts";

const DEFAULT = `${ROOT}/results/default/1.0.0/result.json`;
const TRACKS = `${ROOT}/leaderboard/tracks.yaml`;

async function documents(dir: string) {
  const full = readResult(JSON.parse(await Deno.readTextFile(DEFAULT)), DEFAULT);
  const { signature: _, ...unsigned } = full;
  const kept = new Set(shardCells(expandMatrix(MatrixSpec.parse(full.matrix.spec)), 0, 4).map((c) => c.id));
  const rows = full.rows.filter((r) => kept.has(r.cell));
  const files = { full: join(dir, "full.json"), part: join(dir, "part.json"), keys: join(dir, "keys.jwks") };
  await Deno.writeTextFile(files.full, JSON.stringify(await signed(unsigned)));
  await Deno.writeTextFile(
    files.part,
    JSON.stringify(await signed({ ...unsigned, rows, summary: summarizeRows(rows) })),
  );
  await Deno.writeTextFile(files.keys, JSON.stringify(await jwksOf("trusted-a")));
  return { files, full, rows };
}

Deno.test("coverage: submit refuses the default result cut to 8 of 30 rows, naming the missing cells", async () => {
  await using t = await tempDir("coverage");
  const { files, full, rows } = await documents(t.dir);
  assert.equal(full.rows.length, 30);
  assert.equal(rows.length, 8);
  const missing = full.rows.filter((r) => !rows.includes(r));
  assert.ok(new Set(rows.map((r) => r.augmentation)).size === 2, "the cut keeps rows of both tracks' groups");

  const to = join(t.dir, "submissions");
  const part = await cli(["submit", files.part, "--to", to, "--keys", files.keys, "--tracks", TRACKS]);
  assert.equal(part.code, 2, part.stderr);
  assert.match(part.stderr, /refused \(incomplete\)/);
  for (const track of ["mnist-default-rotation", "mnist-default-noise"]) {
    const n = missing.filter((r) => track.endsWith(r.augmentation)).length;
    assert.match(
      part.stderr,
      new RegExp(`track ${track} \\(mnist/fixture-cnn/\\w+\\): ${n} of 15 cells missing`),
    );
  }
  // The first missing cells are named by method, classifier, seed and cell id.
  const first = missing.find((r) => r.augmentation === "rotation")!;
  assert.ok(
    part.stderr.includes(`${first.method}/${first.classifier} seed ${first.seed} (cell ${first.cell})`),
  );
  assert.deepEqual(await listDir(to), []);

  const whole = await cli(["submit", files.full, "--to", to, "--keys", files.keys, "--tracks", TRACKS]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.match(whole.stdout, /accepted .*tracks mnist-default-rotation, mnist-default-noise/);
});

Deno.test("coverage: leaderboard build leaves the incomplete result out with its reason", async () => {
  await using t = await tempDir("coverage-build");
  const { files } = await documents(t.dir);
  const r = await buildLeaderboard({
    submissions: [files.full, files.part],
    keys: files.keys,
    tracks: TRACKS,
    out: join(t.dir, "site"),
  });
  assert.deepEqual(r.accepted.map((s) => s.file), [files.full]);
  assert.deepEqual(r.omitted.map((o) => [o.file, o.reason]), [[files.part, "incomplete"]]);
  assert.match(r.omitted[0].detail, /cells missing/);
});

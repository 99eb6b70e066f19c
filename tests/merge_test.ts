/**
 * `invbench merge` end to end through the CLI: the tiny matrix run as three shards (real MNIST, the
 * fixture backbone, CPU backend) merges into a signed result equal at tolerance 0 to a one-process
 * run, with each shard's provenance; overlapping, incomplete, foreign and corrupt shards are
 * refused with exit 2 naming the shard and cell, and nothing is written.
 */
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { readResult } from "../src/results/schema.ts";
import { generateKeys, readJwks, verifyDocument, writePrivateKey } from "../src/results/signing.ts";
import { cli, exists, fixture } from "./fixtures/harness.ts";

const MATRIX = fixture("tiny.yaml");
const TMP = await Deno.makeTempDir({ prefix: "invbench-merge-" });
const KEY = `${TMP}/key.jwk`;
await writePrivateKey(KEY, await generateKeys());
// All runs share one feature cache: the features are the same whichever process extracts them.
const run = (out: string, ...extra: string[]) =>
  cli(["run", MATRIX, "--out", out, "--cache", `${TMP}/cache`, "--backend", "cpu", ...extra]);
const readDoc = async (path: string) => readResult(JSON.parse(await Deno.readTextFile(path)), path);

async function ok(r: Promise<{ code: number; stdout: string; stderr: string }>) {
  const done = await r;
  assert.equal(done.code, 0, done.stderr);
  return done;
}

const FULL = `${TMP}/full`;
const SHARDS = [0, 1, 2].map((i) => `${TMP}/shard-${i}`);

Deno.test("merge: three shards merge into a signed result equal (tolerance 0) to a one-process run", async () => {
  await ok(run(FULL));
  for (const [i, dir] of SHARDS.entries()) await ok(run(dir, "--shard", `${i}/3`));
  const merged = `${TMP}/merged`;
  const r = await ok(cli(["merge", ...SHARDS, "--out", merged, "--key", KEY, "--json"]));
  const summary = JSON.parse(r.stdout);
  assert.deepEqual({ ...summary, out: undefined }, {
    ok: true,
    out: undefined,
    shards: 3,
    cells: 6,
    matrix_cells: 6,
    signed: true,
  });
  await ok(cli(["verify", `${merged}/result.json`, "--keys", `${merged}/signer.jwks`]));
  await ok(
    cli(["compare", `${FULL}/result.json`, `${merged}/result.json`, "--tolerance", "0", "--seed-sd", "0"]),
  );

  const full = await readDoc(`${FULL}/result.json`), doc = await readDoc(`${merged}/result.json`);
  await verifyDocument(
    JSON.parse(await Deno.readTextFile(`${merged}/result.json`)),
    await readJwks(`${merged}/signer.jwks`),
  );
  // Rows in the one-process run's order, the same inputs, and every shard's provenance.
  assert.deepEqual(doc.rows.map((x) => x.cell), full.rows.map((x) => x.cell));
  assert.deepEqual(doc.inputs, full.inputs);
  assert.deepEqual(full.provenance, { matrix_cells: 6 });
  const from = doc.provenance?.merged_from ?? [];
  assert.deepEqual(
    from.map((s) => s.shard),
    [0, 1, 2].map((index) => ({ index, count: 3, by: "cell", source: "flag" })),
  );
  assert.deepEqual(from.map((s) => s.directory), ["shard-0", "shard-1", "shard-2"]);
  for (const [i, s] of from.entries()) {
    const shard = await readDoc(`${SHARDS[i]}/result.json`);
    assert.deepEqual(s.cells, shard.rows.map((x) => x.cell));
    assert.deepEqual(s.environment, shard.environment);
    assert.deepEqual(s.harness, shard.harness);
    assert.deepEqual(shard.provenance?.shard, { index: i, count: 3, by: "cell", source: "flag" });
  }
  assert.deepEqual(from.flatMap((s) => s.cells).sort(), full.rows.map((x) => x.cell).sort());
});

/** Runs merge over `dirs`; asserts exit 2, each of `says` in stderr, and that nothing was written. */
async function refused(dirs: string[], says: RegExp[]) {
  const out = `${TMP}/refused-${crypto.randomUUID()}`;
  const r = await cli(["merge", ...dirs, "--out", out, "--key", KEY]);
  assert.equal(r.code, 2, `expected exit 2, got ${r.code}: ${r.stderr}`);
  for (const s of says) assert.match(r.stderr, s);
  assert.match(r.stderr, /nothing written/);
  assert.equal(await exists(out), false, "merge wrote its output directory although it refused");
}

Deno.test("merge: incomplete, overlapping, foreign and corrupt shards exit 2 naming shard and cell", async () => {
  const shard2 = await readDoc(`${SHARDS[2]}/result.json`);
  const lost = shard2.rows[0].cell;
  // Incomplete: shard 2 of 3 is missing; the message names a missing cell and whose it was.
  await refused(SHARDS.slice(0, 2), [
    new RegExp(
      `cell (${
        shard2.rows.map((x) => x.cell).join("|")
      }): is missing \\(mnist/fixture/rot/.*\\): it belongs to shard 2/3`,
    ),
    /2 of 6 cells missing/,
  ]);

  // Overlapping: shard 0 of a 2-way split shares cells with shard 0 of the 3-way split.
  const other = `${TMP}/two-0`;
  await ok(run(other, "--shard", "0/2"));
  await refused([...SHARDS, other], [
    new RegExp(`${other}: cell [0-9a-f]{16}: is also in shard ${TMP}/shard-`),
  ]);

  // Foreign: shard 2 of another matrix (same cells, another version).
  const foreignMatrix = `${TMP}/tiny-other.yaml`;
  await Deno.writeTextFile(
    foreignMatrix,
    (await Deno.readTextFile(MATRIX)).replace("version: 0.0.1", "version: 0.0.2").replaceAll(
      "../../fixtures/",
      `${fixture("../../fixtures/")}`,
    ),
  );
  const foreign = `${TMP}/foreign-2`;
  await ok(cli([
    "run",
    foreignMatrix,
    "--out",
    foreign,
    "--cache",
    `${TMP}/cache`,
    "--backend",
    "cpu",
    "--shard",
    "2/3",
  ]));
  await refused([SHARDS[0], SHARDS[1], foreign], [
    new RegExp(`${foreign}: ran matrix tiny-test 0.0.2 .* not tiny-test 0.0.1`),
  ]);

  // Corrupt: a cell file cut short, and a cell file whose metric was edited.
  const cut = `${TMP}/cut-2`, edited = `${TMP}/edited-2`;
  cpSync(SHARDS[2], cut, { recursive: true });
  cpSync(SHARDS[2], edited, { recursive: true });
  const cellFile = (dir: string) => `${dir}/cells/${lost}.json`;
  const text = await Deno.readTextFile(cellFile(cut));
  await Deno.writeTextFile(cellFile(cut), text.slice(0, text.length / 2));
  await refused([SHARDS[0], SHARDS[1], cut], [
    new RegExp(`${cut}: cell ${lost}: .* is not a valid cell row`),
  ]);
  const row = JSON.parse(text);
  row.metrics.acc_aug += 0.01;
  await Deno.writeTextFile(cellFile(edited), JSON.stringify(row));
  await refused([SHARDS[0], SHARDS[1], edited], [
    new RegExp(`${edited}: cell ${lost}: .* differs from the row in .*result\\.json`),
  ]);

  // A shard that has not finished (no result.json) and a shard of another harness commit.
  const unfinished = `${TMP}/unfinished-2`;
  cpSync(SHARDS[2], unfinished, { recursive: true });
  await Deno.remove(`${unfinished}/result.json`);
  await refused([SHARDS[0], SHARDS[1], unfinished], [new RegExp(`${unfinished}: no result.json`)]);
  const commit = `${TMP}/commit-2`;
  cpSync(SHARDS[2], commit, { recursive: true });
  const doc = JSON.parse(await Deno.readTextFile(`${commit}/result.json`));
  doc.harness.commit = "0".repeat(40);
  await Deno.writeTextFile(`${commit}/result.json`, JSON.stringify(doc));
  await refused([SHARDS[0], SHARDS[1], commit], [new RegExp(`${commit}: ran harness commit 0{40}`)]);
});

Deno.test("merge: shards of a filtered run merge into the filtered cells; a shard of another filter is refused", async () => {
  const dirs = [0, 1].map((i) => `${TMP}/ec-${i}`);
  for (const [i, dir] of dirs.entries()) await ok(run(dir, "--filter", "method=ec", "--shard", `${i}/2`));
  const merged = `${TMP}/ec-merged`;
  await ok(cli(["merge", ...dirs, "--out", merged]));
  const doc = await readDoc(`${merged}/result.json`);
  assert.deepEqual(doc.rows.map((x) => [x.method, x.seed]), [["ec", 0], ["ec", 1], ["ec", 2]]);
  assert.deepEqual(doc.provenance?.filters, ["method=ec"]);
  assert.equal(doc.provenance?.matrix_cells, 6);
  await refused([dirs[0], SHARDS[1]], [
    new RegExp(`${SHARDS[1]}: ran --filter \\[\\], not \\["method=ec"\\]`),
  ]);
});

Deno.test("merge: an --out holding someone else's files is refused; an earlier merge is replaced", async () => {
  const mine = `${TMP}/mine`;
  await Deno.mkdir(mine);
  await Deno.writeTextFile(`${mine}/notes.txt`, "mine");
  const r = await cli(["merge", ...SHARDS, "--out", mine]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /holds files that are not an earlier merge's \(notes\.txt\)/);
  assert.equal(await Deno.readTextFile(`${mine}/notes.txt`), "mine");
  // With --json the refusal is one JSON document on stdout, with the same exit code.
  const json = await cli(["merge", ...SHARDS, "--out", mine, "--json"]);
  assert.equal(json.code, 2);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual([doc.ok, doc.exitCode], [false, 2]);
  assert.match(doc.error, /holds files that are not an earlier merge's/);
  // Merging again into the first merge's directory is allowed (a resubmitted array merges again).
  await ok(cli(["merge", ...SHARDS, "--out", `${TMP}/merged`, "--key", KEY]));
  await Deno.remove(TMP, { recursive: true });
});

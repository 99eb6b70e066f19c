/**
 * The committed reference result of the default matrix (results/default/<version>/): it verifies
 * with the committed key, a changed number does not, it heads a leaderboard built with a worse
 * and a tampered submission, and one cell of each method re-runs on this machine to exactly the
 * committed numbers.
 */
import { VerificationError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { buildLeaderboard } from "../src/leaderboard/build.ts";
import { sha256Hex } from "../src/util/hash.ts";
import { compareResults, formatComparison } from "../src/results/compare.ts";
import { readResult, type ResultDocument } from "../src/results/schema.ts";
import { readJwks, signDocument, verifyDocument } from "../src/results/signing.ts";
import { summarizeRows } from "../src/results/table.ts";
import { reproduce } from "../src/run/reproduce.ts";
import { runMatrix } from "../src/run/runner.ts";
import { fixtureKey } from "./fixtures/leaderboard/helpers.ts";
import { ROOT, tempDir } from "./fixtures/harness.ts";

const matrix = `${ROOT}/benchmarks/default.yaml`;
const version = /^version:\s*(\S+)/m.exec(await Deno.readTextFile(matrix))![1];
const dir = `${ROOT}/results/default/${version}`;
const raw = (): Promise<Record<string, unknown>> =>
  Deno.readTextFile(`${dir}/result.json`).then((t) => JSON.parse(t));

Deno.test("reference: the committed result of the default matrix verifies with the committed key", async () => {
  const doc = await raw();
  const kid = await verifyDocument(doc, await readJwks(`${ROOT}/results/trusted_keys.jwks`));
  const signer = await readJwks(`${dir}/signer.jwks`);
  assert.equal(await verifyDocument(doc, signer), kid);
  const result = readResult(doc, `${dir}/result.json`);
  assert.equal(
    result.matrix.sha256,
    sha256Hex(await Deno.readTextFile(matrix)),
    "the result ran today's matrix",
  );
  assert.equal(result.harness.dirty, false, "the reference was produced from a clean tree");
  assert.ok(result.rows.every((r) => r.status === "ok"));
});

Deno.test("reference: one changed number fails verification", async () => {
  const doc = await raw() as { rows: { metrics: { acc_aug: number } }[] };
  doc.rows[0].metrics.acc_aug += 0.001;
  await assert.rejects(
    verifyDocument(doc, await readJwks(`${ROOT}/results/trusted_keys.jwks`)),
    (e) => e instanceof VerificationError && e.reason === "bad-signature",
  );
});

Deno.test("reference: a leaderboard of the reference, a worse and a tampered submission", async () => {
  await using tmp = await tempDir("reference-board");
  const reference = readResult(await raw());
  // Worse: every augmented accuracy 10 points lower, summary recomputed, signed by a test key.
  const worseRows = reference.rows.map((r) => ({
    ...r,
    metrics: { ...r.metrics, acc_aug: Math.max(0, r.metrics.acc_aug! - 0.1) },
  }));
  const { signature: _s, ...unsigned } = reference;
  const worse: ResultDocument = { ...unsigned, rows: worseRows, summary: summarizeRows(worseRows) };
  const testKey = await fixtureKey("trusted-a");
  const tampered = await raw() as { rows: { metrics: { acc_clean: number } }[] };
  tampered.rows[3].metrics.acc_clean = 1;
  await Deno.copyFile(`${dir}/result.json`, `${tmp.dir}/reference.json`);
  await Deno.writeTextFile(
    `${tmp.dir}/worse.json`,
    JSON.stringify(await signDocument(worse as unknown as Record<string, unknown>, testKey)),
  );
  await Deno.writeTextFile(`${tmp.dir}/tampered.json`, JSON.stringify(tampered));
  const trusted = await readJwks(`${ROOT}/results/trusted_keys.jwks`);
  await Deno.writeTextFile(
    `${tmp.dir}/keys.jwks`,
    JSON.stringify({ keys: [...trusted.keys, testKey.publicJwk] }),
  );

  const built = await buildLeaderboard({
    submissions: [`${tmp.dir}/reference.json`, `${tmp.dir}/worse.json`, `${tmp.dir}/tampered.json`],
    keys: `${tmp.dir}/keys.jwks`,
    tracks: `${ROOT}/leaderboard/tracks.yaml`,
    out: `${tmp.dir}/site`,
  });
  assert.equal(built.accepted.length, 2);
  assert.equal(built.omitted.length, 1);
  assert.match(built.log.join("\n"), /tampered\.json.*bad-signature|bad-signature.*tampered\.json/s);
  const rotation = built.tables.find((t) => t.track.id === "mnist-default-rotation")!;
  assert.equal(rotation.entries.length, 10, "5 methods × 2 submissions");
  // Ranked by mean augmented accuracy, best first; each method of the reference above its worse copy.
  const ranked = [...rotation.entries].sort((a, b) => a.rank! - b.rank!);
  for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].accAug!.mean >= ranked[i].accAug!.mean);
  for (const method of ["ec", "mawa", "waco", "simclr", "hsic"]) {
    const [ref, bad] = ["reference", "worse"].map((which) =>
      rotation.entries.find((e) =>
        e.method === method && (which === "worse") === (e.submission.kid === testKey.kid)
      )!
    );
    assert.ok(ref.rank! < bad.rank!, `${method}: reference rank ${ref.rank} vs worse ${bad.rank}`);
  }
  await Deno.stat(`${tmp.dir}/site/index.html`);
});

/**
 * One cell per method, spread over augmentations and seeds (method i takes its (4·i mod count)-th
 * row), so every training loop (EC, MaWa, WaCo, SimCLR, HSIC) is re-run; the reference ran on the
 * CPU backend, which is deterministic, so they must agree bit for bit (tolerance 0, no seed spread).
 */
function onePerMethod(doc: ResultDocument): string[] {
  const methods = [...new Set(doc.rows.map((r) => r.method))];
  return methods.map((m, i) => {
    const rows = doc.rows.filter((r) => r.method === m);
    return rows[(4 * i) % rows.length].cell;
  });
}

Deno.test("reference: one cell per method re-runs on the cpu backend to exactly the committed numbers", async () => {
  await using tmp = await tempDir("reference-rerun");
  const reference = readResult(await raw());
  const backend = reference.environment.backend as { chosen: string };
  assert.equal(backend.chosen, "cpu", "exact agreement is only promised on the backend the reference ran on");
  const cells = onePerMethod(reference);
  assert.deepEqual(
    cells.map((c) => reference.rows.find((r) => r.cell === c)!.method),
    ["ec", "mawa", "waco", "simclr", "hsic"],
  );
  const rerun = await runMatrix({
    matrix,
    out: `${tmp.dir}/run`,
    backend: "cpu",
    cellIds: new Set(cells),
    progress: () => {},
  });
  const c = compareResults(reference, rerun.document, { absolute: 0, seedSd: 0 }, new Set(cells));
  assert.equal(c.compared, cells.length);
  assert.ok(c.agree, formatComparison(c));
  // Tolerance 0 compares every metric bit for bit; the timings are the only ones left out.
  for (const id of cells) {
    const [a, b] = [reference, rerun.document].map((d) => d.rows.find((r) => r.cell === id)!);
    const untimed = (m: Record<string, number | null>) =>
      Object.fromEntries(Object.entries(m).filter(([k]) => !k.endsWith("_seconds")));
    assert.deepEqual(untimed(b.metrics), untimed(a.metrics), id);
    assert.deepEqual(b.cost, a.cost, id);
    assert.deepEqual(b.structure_sample, a.structure_sample, id);
  }
});

Deno.test("reference: reproduce re-runs its sampled cell and agrees exactly", async () => {
  await using tmp = await tempDir("reference-reproduce");
  // No cache: reproduce recomputes every feature it needs, so this also re-checks the extraction.
  const c = await reproduce(readResult(await raw()), {
    cells: 1,
    out: `${tmp.dir}/run`,
    backend: "cpu",
    tolerance: { absolute: 0, seedSd: 0 },
  });
  assert.equal(c.compared, 1);
  assert.ok(c.agree, formatComparison(c));
});

/**
 * Open submissions (docs/methods.md): results signed by any key are listed as self-reported; a
 * maintainer's signed reproduction attestation marks one reproduced when its cells agree and
 * disputed when they do not (a result whose numbers were improved and re-signed by its author).
 * The scenario is made for real with the CLI (tests/fixtures/open_submission.ts); the browser
 * test of the same site is in tests/browser/leaderboard_standing_browser_test.ts.
 */
import assert from "node:assert/strict";
import { Attestation, contentHash } from "../src/results/attestation.ts";
import { ATTESTATION_SIGNATURE_TYPE, readJwks, verifyDocument } from "../src/results/signing.ts";
import { cli } from "./fixtures/harness.ts";
import { type OpenScenario, openScenario } from "./fixtures/open_submission.ts";

const TMP = await Deno.makeTempDir({ prefix: "invbench-open-submissions-" });
let made: Promise<OpenScenario> | undefined;
/** The scenario, made once for the tests of this file. */
const scenario = () => made ??= openScenario(TMP);

Deno.test("open submissions: self-reported, then reproduced or disputed by a maintainer's attestation", async () => {
  const s = await scenario();
  const tmp = { dir: TMP };

  for (const line of s.submitted) {
    assert.match(line, /accepted as self-reported \(signed by \S+; tracks open-rotation\)/);
  }

  assert.equal(s.reproduceCodes.honest, 0);
  assert.equal(s.reproduceCodes.improved, 4, "the improved numbers do not reproduce");
  const trusted = await readJwks(`${tmp.dir}/trusted.jwks`);
  const honestRaw = JSON.parse(await Deno.readTextFile(s.attestations.honest));
  const improvedRaw = JSON.parse(await Deno.readTextFile(s.attestations.improved));
  for (const raw of [honestRaw, improvedRaw]) {
    await verifyDocument(raw, trusted, ATTESTATION_SIGNATURE_TYPE);
    await assert.rejects(verifyDocument(raw, trusted), /another kind of document/, "not a result signature");
  }
  const honest = Attestation.parse(honestRaw), improved = Attestation.parse(improvedRaw);
  assert.equal(honest.result.sha256, s.honest);
  assert.equal(improved.result.sha256, s.improved);
  assert.equal(honest.verdict, "reproduced");
  assert.equal(improved.verdict, "disputed");
  assert.equal(honest.cells.length, 2);
  assert.ok(honest.cells.every((c) => c.agree && Object.values(c.metrics).every((m) => m.agree)));
  const bad = improved.cells.find((c) => c.label.includes("mawa-file"))!;
  assert.equal(bad.agree, false);
  assert.equal(bad.metrics.acc_aug.agree, false);
  assert.ok(Math.abs(bad.metrics.acc_aug.result! - bad.metrics.acc_aug.rerun! - 0.05) < 1e-9);
  assert.equal(bad.metrics.acc_clean.agree, true);
  assert.ok(typeof (honest.environment as { os?: string }).os === "string");

  assert.match(s.buildLog, new RegExp(`^standing ${s.honest.slice(0, 12)}: reproduced$`, "m"));
  assert.match(s.buildLog, new RegExp(`^standing ${s.improved.slice(0, 12)}: disputed$`, "m"));
  const index = await Deno.readTextFile(`${s.site}/index.html`);
  assert.match(index, /data-standing="reproduced"/);
  assert.match(index, /data-standing="disputed"/);
  assert.match(index, /id="only-reproduced"/);
  const detail = await Deno.readTextFile(`${s.site}/submissions/${s.honest}.html`);
  assert.match(detail, /class="badge standing reproduced">reproduced</);
  assert.match(detail, /2 of 2 cells matched, attested by/);
  assert.match(detail, /ops\.mean\(ops\.sum\(ops\.square\(ops\.sub\(batch\.y, batch\.anchors\)\), 1\)\)/);
});

Deno.test("open submissions: an attestation signed by an untrusted key counts for nothing", async () => {
  const s = await scenario();
  const tmp = { dir: TMP };
  // The maintainer's "disputed" turned into "reproduced" and re-signed by the author's key.
  const raw = JSON.parse(await Deno.readTextFile(s.attestations.improved));
  raw.verdict = "reproduced";
  const { signDocument, readPrivateKey } = await import("../src/results/signing.ts");
  const forged = await signDocument(raw, await readPrivateKey(`${tmp.dir}/author.jwk`), {
    typ: ATTESTATION_SIGNATURE_TYPE,
  });
  await Deno.writeTextFile(`${tmp.dir}/forged.json`, JSON.stringify(forged));
  const f = await cli([
    "leaderboard",
    "build",
    "--submissions",
    `${tmp.dir}/submissions`,
    "--attestations",
    `${tmp.dir}/forged.json`,
    "--keys",
    `${tmp.dir}/trusted.jwks`,
    "--tracks",
    `${tmp.dir}/tracks.yaml`,
    "--out",
    `${tmp.dir}/site3`,
  ]);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /ignored attestation .*forged\.json: untrusted-key/);
  assert.match(f.stdout, new RegExp(`standing ${s.improved.slice(0, 12)}: self-reported`));
  assert.equal(contentHash(forged).length, 64);
});

Deno.test("open submissions: clean up", async () => {
  await Deno.remove(TMP, { recursive: true });
});

Deno.test("open submissions: the default tracks accept the default matrix with a method file added", async () => {
  const { loadTracks, matchTracks } = await import("../src/leaderboard/tracks.ts");
  const { protocolHash } = await import("../src/matrix/protocol.ts");
  const { readResult } = await import("../src/results/schema.ts");
  const { ROOT } = await import("./fixtures/harness.ts");
  const { tracks } = await loadTracks(`${ROOT}/leaderboard/tracks.yaml`);
  // Every committed version of the default result has its own two tracks.
  const versions = [...Deno.readDirSync(`${ROOT}/results/default`)].map((e) => e.name).sort();
  assert.ok(versions.length >= 2, versions.join(", "));
  for (const version of versions) {
    const reference = readResult(
      JSON.parse(await Deno.readTextFile(`${ROOT}/results/default/${version}/result.json`)),
    );
    const defaults = tracks.filter((t) => t.matrix.name === "mnist-default" && t.matrix.version === version);
    assert.equal(defaults.length, 2, version);
    for (const t of defaults) assert.equal(t.matrix.protocol, protocolHash(reference.matrix.spec), t.id);
    // The same matrix with a method file added, copied elsewhere (its backbone path differs):
    const spec = structuredClone(reference.matrix.spec) as Record<string, unknown> & {
      methods: unknown[];
      backbones: { onnx: string }[];
    };
    spec.methods.push({ id: "mine", kind: "adapter", loss: "./mine.ts", params: {}, training: {} });
    spec.backbones[0].onnx = "../../fixtures/backbones/mnist.onnx";
    const added = { ...reference, matrix: { ...reference.matrix, sha256: "b".repeat(64), spec } };
    assert.deepEqual(matchTracks(added, tracks).map((t) => t.id), defaults.map((t) => t.id));
    // Another protocol (one more seed) does not belong.
    const seeds = { ...added, matrix: { ...added.matrix, spec: { ...spec, seeds: [0, 1, 2, 3] } } };
    assert.deepEqual(matchTracks(seeds, tracks), []);
  }
});

import { EXIT, exitCodeOf, SubmissionError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildCli } from "../src/cli/main.ts";
import { checkSubmission, contentHash, type RefusalReason } from "../src/leaderboard/check.ts";
import { submitResult } from "../src/leaderboard/submit.ts";
import { loadTracks } from "../src/leaderboard/tracks.ts";
import { readJwks, verifyDocument } from "../src/results/signing.ts";
import { listDir } from "./fixtures/harness.ts";
import {
  fixture,
  jwksOf,
  readFixture,
  ROOT,
  signed,
  syntheticDocument,
  syntheticTrack,
  TRACKS,
  TRUSTED_KEYS,
} from "./fixtures/leaderboard/helpers.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "invbench-submit-" });
  return {
    dir,
    to: join(dir, "submissions"),
    trusted: await readJwks(TRUSTED_KEYS),
    tracks: (await loadTracks(TRACKS)).tracks,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

async function refusal(p: Promise<unknown>): Promise<SubmissionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SubmissionError, `expected a SubmissionError, got ${e}`);
    return e;
  }
  throw new Error("expected the submission to be refused");
}

Deno.test("submit: a valid submission is filed under the sha256 of its canonical signed content", async () => {
  const s = await setup();
  try {
    const out = await submitResult(fixture("good.json"), s);
    const raw = await readFixture("good.json");
    assert.equal(out.status, "filed");
    assert.equal(out.hash, contentHash(raw));
    assert.match(out.hash, /^[0-9a-f]{64}$/);
    assert.equal(out.path, join(s.to, `${out.hash}.json`));
    assert.deepEqual(out.tracks, ["fixture-rotation"]);
    assert.deepEqual(await listDir(s.to), [`${out.hash}.json`]);
    const filed = JSON.parse(await Deno.readTextFile(out.path));
    assert.deepEqual(filed, raw);
    assert.equal(await verifyDocument(filed, s.trusted), out.kid);
  } finally {
    await s.cleanup();
  }
});

Deno.test("submit: the same content again is reported as a duplicate, also when re-signed by another trusted key", async () => {
  const s = await setup();
  try {
    const first = await submitResult(fixture("good.json"), s);
    const again = await submitResult(fixture("good.json"), s);
    assert.equal(again.status, "duplicate");
    assert.equal(again.path, first.path);
    const resigned = await signed(await readFixture("good.json"), "trusted-b");
    const file = join(s.dir, "resigned.json");
    await Deno.writeTextFile(file, JSON.stringify(resigned));
    const third = await submitResult(file, s);
    assert.equal(third.status, "duplicate");
    assert.notEqual(third.kid, first.kid);
    assert.deepEqual(await listDir(s.to), [`${first.hash}.json`]);
    // Whitespace and key order are not content.
    const reordered = join(s.dir, "reordered.json");
    const raw = await readFixture("good.json");
    await Deno.writeTextFile(reordered, JSON.stringify(Object.fromEntries(Object.entries(raw).reverse())));
    assert.equal((await submitResult(reordered, s)).status, "duplicate");
  } finally {
    await s.cleanup();
  }
});

Deno.test("submit: refusals name their reason and file nothing", async () => {
  const s = await setup();
  try {
    const write = async (name: string, doc: unknown) => {
      const file = join(s.dir, name);
      await Deno.writeTextFile(file, typeof doc === "string" ? doc : JSON.stringify(doc));
      return file;
    };
    const good = await readFixture("good.json");
    const { signature: _, ...unsigned } = good;
    const goodDoc = syntheticDocument([{ id: "none", clean: [0.9], aug: [0.5] }]);
    const badSummary = { ...goodDoc, summary: goodDoc.summary.map((r) => ({ ...r, failed: 1 })) };
    const cases: [string, RefusalReason, RegExp][] = [
      [fixture("tampered.json"), "bad-signature", /changed after signing/],
      [fixture("untrusted.json"), "untrusted-key", /not in the trusted keys/],
      [await write("unsigned.json", unsigned), "missing-signature", /no signature/],
      [
        await write("alg.json", {
          ...good,
          signature: { protected: "eyJhbGciOiJIUzI1NiJ9", signature: "x" },
        }),
        "bad-algorithm",
        /HS256/,
      ],
      [await write("notjson.json", "{not json"), "unreadable", /not JSON/],
      [await write("array.json", "[1, 2]"), "unreadable", /not a JSON object/],
      [join(s.dir, "missing.json"), "unreadable", /cannot read the file/],
      [await write("notrack.json", await signed(goodDoc)), "no-track", /no track matches matrix "synthetic"/],
      [
        await write("schema.json", await signed({ ...goodDoc, extra: 1 })),
        "invalid-document",
        /extra|Unrecognized/i,
      ],
      [
        await write("summary.json", await signed(badSummary)),
        "inconsistent-summary",
        /seeds or failed count differ/,
      ],
    ];
    for (const [file, reason, message] of cases) {
      const e = await refusal(submitResult(file, s));
      assert.equal(e.reason, reason, `${file}: ${e.message}`);
      assert.match(e.detail, message, file);
      assert.ok(e.message.startsWith(`${file}: refused (${reason}): `), e.message);
    }
    assert.deepEqual(await listDir(s.to), []);
  } finally {
    await s.cleanup();
  }
});

Deno.test("submit: names and fields from the submission never become paths", async () => {
  const s = await setup();
  try {
    // The recorded matrix (a valid one, so that the result covers its track's group) has method
    // "none"; the row of method "../../escape" comes on top.
    const spec = {
      schema: "invbench.matrix/v1",
      name: "evil",
      version: "1.0.0",
      datasets: [{ id: "ds", source: "mnist" }],
      backbones: [{
        id: "bb",
        onnx: "/etc/passwd",
        input: { size: [28, 28], channels: 1, mean: [0], std: [1] },
      }],
      augmentations: [{ id: "rot", kind: "rotation" }],
      methods: [{ id: "none", kind: "none" }],
      classifiers: ["linear"],
      seeds: [0],
    };
    const doc = syntheticDocument([
      { id: "none", clean: [0.9], aug: [0.4] },
      { id: "../../escape", clean: [0.9], aug: [0.5] },
    ], { matrix: { name: "../../../tmp/evil", path: "/etc/passwd", spec } });
    const track = syntheticTrack({
      matrix: { name: "../../../tmp/evil", version: "1.0.0", sha256: doc.matrix.sha256 },
    });
    const file = join(s.dir, "evil.json");
    const raw = await signed(doc);
    await Deno.writeTextFile(file, JSON.stringify(raw));
    const out = await submitResult(file, { to: s.to, trusted: await jwksOf("trusted-a"), tracks: [track] });
    assert.deepEqual(await listDir(s.to), [`${contentHash(raw)}.json`]);
    assert.deepEqual(await listDir(s.dir), ["evil.json", "submissions"]);
    assert.equal(out.path, join(s.to, `${contentHash(raw)}.json`));
  } finally {
    await s.cleanup();
  }
});

Deno.test("submit: checkSubmission accepts every fixture signed by a trusted key", async () => {
  const trusted = await readJwks(TRUSTED_KEYS);
  const { tracks } = await loadTracks(TRACKS);
  for (const name of ["good.json", "worse.json", "xss.json"]) {
    const s = await checkSubmission(await Deno.readTextFile(fixture(name)), name, trusted, tracks);
    assert.deepEqual(s.tracks.map((t) => t.id), ["fixture-rotation"], name);
  }
});

async function cli(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  try {
    await buildCli().parseAsync(args, { from: "user" });
    return { code: EXIT.ok, out };
  } catch (e) {
    return { code: exitCodeOf(e), out: [...out, (e as Error).message] };
  } finally {
    console.log = log;
  }
}

Deno.test("submit CLI: exit 0 filed or duplicate, 3 for signature and key, 2 for document and track", async () => {
  const s = await setup();
  try {
    const flags = ["--to", s.to, "--keys", TRUSTED_KEYS, "--tracks", TRACKS];
    const filed = await cli(["submit", fixture("good.json"), ...flags]);
    assert.equal(filed.code, 0);
    assert.match(
      filed.out.join("\n"),
      /accepted \(signed by .*; tracks fixture-rotation\) → .*[0-9a-f]{64}\.json/,
    );
    const dup = await cli(["submit", fixture("good.json"), ...flags]);
    assert.equal(dup.code, 0);
    assert.match(dup.out.join("\n"), /duplicate: the same content is already filed as/);
    assert.equal((await cli(["submit", fixture("tampered.json"), ...flags])).code, EXIT.verificationFailed);
    const untrusted = await cli(["submit", fixture("untrusted.json"), ...flags]);
    assert.equal(untrusted.code, EXIT.verificationFailed);
    assert.match(untrusted.out.join("\n"), /refused \(untrusted-key\)/);
    const noTrack = await cli([
      "submit",
      fixture("good.json"),
      ...flags.slice(0, 4),
      "--tracks",
      join(ROOT, "leaderboard/tracks.yaml"),
    ]);
    assert.equal(noTrack.code, EXIT.invalidInput);
    assert.match(noTrack.out.join("\n"), /refused \(no-track\)/);
    assert.equal(
      (await cli(["submit", fixture("good.json"), "--to", s.to, "--keys", "/nonexistent.jwks"])).code,
      EXIT.invalidInput,
    );
    assert.equal(
      (await cli(["submit", fixture("good.json"), ...flags.slice(0, 4), "--tracks", "/nonexistent.yaml"]))
        .code,
      EXIT.invalidInput,
    );
  } finally {
    await s.cleanup();
  }
});

Deno.test("submit CLI: the process exits 3 for a tampered result", async () => {
  const s = await setup();
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "src/cli/main.ts",
        "submit",
        fixture("tampered.json"),
        "--to",
        s.to,
        "--keys",
        TRUSTED_KEYS,
        "--tracks",
        TRACKS,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, EXIT.verificationFailed, err);
    assert.match(err, /tampered\.json: refused \(bad-signature\)/);
    assert.deepEqual(await listDir(s.to), []);
  } finally {
    await s.cleanup();
  }
});

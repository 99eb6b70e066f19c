/**
 * The command line in subprocesses: exit codes (0 ok, 2 invalid input, 3 verification failed,
 * 4 mismatch), --help on every command, `report`, `keys generate` and `env`.
 */
import assert from "node:assert/strict";
import { calculateJwkThumbprint } from "jose";
import type { Command } from "commander";
import { buildCli } from "../src/cli/main.ts";
import { EXIT } from "../src/errors.ts";
import { simdLevel } from "../src/run/numeric_platform.ts";
import { readResult } from "../src/results/schema.ts";
import { generateKeys, readPrivateKey, signDocument } from "../src/results/signing.ts";
import { renderCsv, renderMarkdown } from "../src/results/table.ts";
import { cli, clone, exists, fixture, resultDoc, ROOT, row, standardDoc } from "./fixtures/harness.ts";

const TMP = await Deno.makeTempDir({ prefix: "invbench-cli-" });
const keys = await generateKeys();
const JWKS = `${TMP}/trusted.jwks`;
await Deno.writeTextFile(JWKS, JSON.stringify({ keys: [keys.publicJwk] }));
const SIGNED = `${TMP}/signed.json`;
const signedDoc = await signDocument(standardDoc() as unknown as Record<string, unknown>, keys);
await Deno.writeTextFile(SIGNED, JSON.stringify(signedDoc, null, 2));

async function writeJson(name: string, value: unknown): Promise<string> {
  await Deno.writeTextFile(`${TMP}/${name}`, JSON.stringify(value, null, 2));
  return `${TMP}/${name}`;
}

Deno.test("cli: the exit codes are the documented ones", () => {
  assert.deepEqual(EXIT, { ok: 0, failure: 1, invalidInput: 2, verificationFailed: 3, mismatch: 4 });
});

Deno.test("cli: verify exits 0 on a valid signature and 3 on a tampered result", async () => {
  const ok = await cli(["verify", SIGNED, "--keys", JWKS]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    ok.stdout.trim(),
    `${SIGNED}: valid signature by ${keys.kid}; document follows invbench.result/v1`,
  );

  // One digit of one metric changed in the file's text.
  const text = await Deno.readTextFile(SIGNED);
  const tamperedText = text.replace('"acc_clean": 0.91', '"acc_clean": 0.92');
  assert.notEqual(tamperedText, text);
  const tampered = `${TMP}/tampered.json`;
  await Deno.writeTextFile(tampered, tamperedText);
  const bad = await cli(["verify", tampered, "--keys", JWKS]);
  assert.equal(bad.code, 3, bad.stderr);
  assert.match(
    bad.stderr,
    /^invbench: the signature does not verify with trusted key .*changed after signing/,
  );
  assert.ok(!bad.stderr.includes("    at "), "a message, not a stack trace");

  // Untrusted key, missing signature, bad algorithm: 3 as well.
  const other = await generateKeys();
  const otherJwks = await writeJson("other.jwks", { keys: [other.publicJwk] });
  const untrusted = await cli(["verify", SIGNED, "--keys", otherJwks]);
  assert.equal(untrusted.code, 3);
  assert.match(untrusted.stderr, /not in the trusted keys/);
  const { signature: _s, ...unsignedDoc } = signedDoc;
  const unsigned = await cli(["verify", await writeJson("unsigned.json", unsignedDoc), "--keys", JWKS]);
  assert.equal(unsigned.code, 3);
  assert.match(unsigned.stderr, /no signature/);
  const none = {
    ...signedDoc,
    signature: { protected: btoa('{"alg":"none"}').replace(/=+$/, ""), signature: "" },
  };
  const algNone = await cli(["verify", await writeJson("none.json", none), "--keys", JWKS]);
  assert.equal(algNone.code, 3);
  assert.match(algNone.stderr, /alg "none" is refused/);

  // Not a result document, not JSON, no such file: invalid input (2), not a verification verdict.
  const notResult = await cli([
    "verify",
    await writeJson("nope.json", { schema: "other/v1" }),
    "--keys",
    JWKS,
  ]);
  assert.equal(notResult.code, 2);
  assert.match(
    notResult.stderr,
    /not a valid result document\n {2}- schema: "other\/v1"; expected invbench\.result\/v1/,
  );
  await Deno.writeTextFile(`${TMP}/garbage.json`, "{ not json");
  const garbage = await cli(["verify", `${TMP}/garbage.json`, "--keys", JWKS]);
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /garbage\.json: cannot read a JSON result document/);
  assert.equal((await cli(["verify", `${TMP}/missing.json`, "--keys", JWKS])).code, 2);
});

Deno.test("cli: compare exits 0 when results agree and 4 on a mismatch or a missing cell", async () => {
  const a = standardDoc();
  const pathA = await writeJson("a.json", a);
  const same = await cli([
    "compare",
    pathA,
    await writeJson("same.json", clone(a)),
    "--tolerance",
    "0",
    "--seed-sd",
    "0",
  ]);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /result: agree/);

  const changed = clone(a);
  changed.rows[2].metrics.r2 = 0.5;
  const diff = await cli(["compare", pathA, await writeJson("changed.json", changed)]);
  assert.equal(diff.code, 4, diff.stderr);
  assert.match(diff.stdout, new RegExp(`${a.rows[2].cell} +r2 +0\\.97 +0\\.5 `));
  assert.match(diff.stdout, /result: MISMATCH/);
  assert.match(diff.stderr, /invbench: results differ/);
  // A mismatch between results of other numeric platforms (here: AVX2 against AVX-512) says so.
  const platform = (doc: typeof a, simd: string) => {
    doc.environment = { ...doc.environment, os: "linux 6.1 x86_64", cpu: { simd }, deno: "2.9.6" };
    return doc;
  };
  const avx512 = await writeJson("avx512.json", platform(clone(a), "avx512f"));
  const avx2 = await writeJson("avx2.json", platform(clone(changed), "avx2"));
  const across = await cli(["compare", avx512, avx2, "--tolerance", "0", "--seed-sd", "0"]);
  assert.equal(across.code, 4);
  assert.match(
    across.stderr,
    /note: .*avx512\.json ran on cpu backend, x86_64 avx512f.*avx2\.json on .*x86_64 avx2/,
  );
  const alike = await writeJson("avx512b.json", platform(clone(changed), "avx512f"));
  const within = await cli(["compare", avx512, alike, "--tolerance", "0", "--seed-sd", "0"]);
  assert.equal(within.code, 4);
  assert.doesNotMatch(within.stderr, /note:/, "the same platform: a mismatch is a difference");

  const missing = await cli(["compare", pathA, await writeJson("fewer.json", resultDoc(a.rows.slice(1)))]);
  assert.equal(missing.code, 4);
  assert.match(missing.stdout, new RegExp(`missing in B: cell ${a.rows[0].cell}`));

  // A wide tolerance accepts the change; a negative one is invalid input.
  assert.equal((await cli(["compare", pathA, `${TMP}/changed.json`, "--tolerance", "0.5"])).code, 0);
  const negative = await cli(["compare", pathA, pathA, "--tolerance", "-1"]);
  assert.equal(negative.code, 2);
  assert.match(negative.stderr, /--tolerance -1: expected a number ≥ 0/);
  const notNumber = await cli(["compare", pathA, pathA, "--seed-sd", "x"]);
  assert.equal(notNumber.code, 2);
  assert.match(notNumber.stderr, /--seed-sd x: expected a number ≥ 0/);
});

Deno.test("cli: invalid flags and arguments exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["run", fixture("tiny.yaml"), "--backend", "tpu"],
      /argument 'tpu' is invalid.*Allowed choices are auto, cpu, webgpu/,
    ],
    [["env", "--backend", "quantum"], /argument 'quantum' is invalid/],
    [
      ["run", fixture("tiny.yaml"), "--shard", "3/3", "--out", `${TMP}/never`],
      /--shard "3\/3": expected I\/N/,
    ],
    [
      ["run", fixture("tiny.yaml"), "--filter", "colour=red", "--out", `${TMP}/never`],
      /--filter "colour=red"/,
    ],
    [
      ["run", fixture("tiny.yaml"), "--filter", "method=nope", "--out", `${TMP}/never`],
      /--filter "method=nope": "nope" is not a method of this matrix's cells; expected one of ec, mawa/,
    ],
    [["report", SIGNED, "--format", "pdf"], /argument 'pdf' is invalid/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["run"], /missing required argument 'matrix'/],
    [["verify", SIGNED, "--nope"], /unknown option '--nope'/],
    [["keys", "generate"], /required option '--out <file>' not specified/],
    // Key files that are missing or not keys.
    [["verify", SIGNED, "--keys", `${TMP}/missing.jwks`], /missing\.jwks/],
    [["verify", SIGNED, "--keys", SIGNED], /keys\[|expected a JWKS/],
    [["run", fixture("tiny.yaml"), "--key", JWKS, "--out", `${TMP}/never`], /expected a private Ed25519 JWK/],
    [["run", fixture("tiny.yaml"), "--key", `${TMP}/missing.jwk`, "--out", `${TMP}/never`], /missing\.jwk/],
    // Named as typed (it was "--cells NaN"), before the signature is read.
    [
      ["reproduce", SIGNED, "--cells", "abc", "--run-dir", `${TMP}/never`],
      /^invbench: --cells abc: expected a positive integer/,
    ],
    // reproduce took any tolerance, and "abc" made every metric differ.
    [
      ["reproduce", SIGNED, "--tolerance", "abc", "--run-dir", `${TMP}/never`],
      /^invbench: --tolerance abc: expected a number ≥ 0/,
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  for (const [i, [args, message]] of cases.entries()) {
    assert.equal(results[i].code, 2, `${args.join(" ")}: ${results[i].stderr}`);
    assert.match(results[i].stderr, message, args.join(" "));
    assert.ok(!results[i].stderr.includes("    at "), `${args.join(" ")}: a message, not a stack trace`);
  }
  assert.ok(!(await exists(`${TMP}/never`)), "refused runs create no run directory");
});

/** Every command path of the CLI ("run", "keys generate", …), from commander's own tree. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

Deno.test("cli: --help on every command exits 0 and describes the command", async () => {
  const paths = [[], ...commandPaths(buildCli())];
  for (
    const expected of ["run", "verify", "compare", "reproduce", "keys generate", "env", "report", "cache ls"]
  ) {
    assert.ok(paths.some((p) => p.join(" ") === expected), `command ${expected}`);
  }
  const results = await Promise.all(paths.map((p) => cli([...p, "--help"])));
  for (const [i, p] of paths.entries()) {
    const r = results[i];
    assert.equal(r.code, 0, `${p.join(" ")} --help: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`Usage: invbench${p.length ? " " + p.join(" ") : ""} `), r.stdout);
    assert.match(r.stdout, /-h, --help/);
  }
  assert.equal((await cli(["help", "run"])).code, 0);
});

Deno.test("cli: report renders a result as Markdown, CSV and JSON", async () => {
  const doc = readResult(clone(signedDoc));
  const md = await cli(["report", SIGNED]);
  assert.equal(md.code, 0, md.stderr);
  assert.equal(md.stdout, renderMarkdown(doc));
  assert.match(md.stdout, /^# synthetic 1\.0\.0\n/);
  assert.match(md.stdout, /\| mnist \| fixture \| rot \| mawa \| linear \| 3 \| 91\.00 ± 2\.48 \|/);

  const csv = await cli(["report", SIGNED, "--format", "csv"]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout, renderCsv(doc));
  assert.equal(csv.stdout.trimEnd().split("\n").length, 1 + doc.rows.length);

  const json = await cli(["report", SIGNED, "--format", "json"]);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), doc);

  // Failed cells are listed, never hidden.
  const failed = clone(doc);
  failed.rows[1] = { ...row({ seed: 1, status: "diverged" }), reason: "loss became NaN" };
  const withFailure = await cli(["report", await writeJson("failed.json", resultDoc(failed.rows))]);
  assert.equal(withFailure.code, 0);
  assert.match(
    withFailure.stdout,
    /## Cells that did not finish normally\n\n- ec on rot, seed 1: diverged \(loss became NaN\)/,
  );

  // A malformed document is invalid input, naming the field.
  const broken = clone(doc) as unknown as { rows: { seed: unknown }[] };
  broken.rows[0].seed = "zero";
  const bad = await cli(["report", await writeJson("broken.json", broken)]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a valid result document\n {2}- rows\.0\.seed: /);
});

Deno.test("cli: keys generate prints the public JWK and its thumbprint and writes a 0600 key", async () => {
  const out = `${TMP}/generated.jwk`;
  const jwks = `${TMP}/generated.jwks`;
  const r = await cli(["keys", "generate", "--out", out, "--jwks", jwks]);
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as { kid: string; publicJwk: Record<string, string> };
  assert.match(printed.kid, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(printed.publicJwk.kty, "OKP");
  assert.equal(printed.publicJwk.crv, "Ed25519");
  assert.equal(printed.publicJwk.d, undefined, "only the public part is printed");
  assert.equal(
    printed.kid,
    await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: printed.publicJwk.x }),
  );

  assert.equal((await Deno.stat(out)).mode! & 0o777, 0o600);
  const priv = JSON.parse(await Deno.readTextFile(out));
  assert.equal(priv.x, printed.publicJwk.x);
  assert.ok(typeof priv.d === "string" && priv.d.length === 43);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(jwks)).keys, [printed.publicJwk]);

  // The file is never overwritten: invalid input, with a message rather than a stack trace.
  const before = await Deno.readTextFile(out);
  const again = await cli(["keys", "generate", "--out", out]);
  assert.equal(again.code, 2, again.stderr);
  assert.equal(again.stderr.trim(), `invbench: ${out} already exists; a key file is never overwritten`);
  assert.equal(await Deno.readTextFile(out), before);

  // The generated key signs results that verify against the JWKS it was added to, and only those.
  const generated = await readPrivateKey(out);
  assert.equal(generated.kid, printed.kid);
  const own = await writeJson("signed-by-generated.json", await signDocument(clone(signedDoc), generated));
  const verified = await cli(["verify", own, "--keys", jwks]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.ok(verified.stdout.includes(`valid signature by ${printed.kid}`));
  const foreign = await cli(["verify", SIGNED, "--keys", jwks]);
  assert.equal(foreign.code, 3, "SIGNED is signed by another key");
  assert.match(foreign.stderr, /not in the trusted keys/);
});

Deno.test("cli: env --backend cpu prints the fingerprint as JSON", async () => {
  const r = await cli(["env", "--backend", "cpu"]);
  assert.equal(r.code, 0, r.stderr);
  const env = JSON.parse(r.stdout);
  assert.equal(env.backend.requested, "cpu");
  assert.equal(env.backend.chosen, "cpu");
  assert.equal(env.deno, Deno.version.deno);
  assert.equal(env.v8, Deno.version.v8);
  assert.match(env.onnxruntime, /^\d+\.\d+\.\d+/);
  assert.equal(typeof env.cpu.cores, "number");
  assert.equal(env.cpu.simd, simdLevel());
  assert.ok(env.os.startsWith(Deno.build.os));
});

Deno.test("cli: env prints no error: lines where XDG_RUNTIME_DIR is unset, and cpu does not probe WebGPU", async () => {
  for (const backend of ["cpu", "auto"]) {
    const r = await cli(["env", "--backend", backend], { unset: ["XDG_RUNTIME_DIR"] });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /^error:/m, `env --backend ${backend}`);
    if (backend === "cpu") assert.equal(JSON.parse(r.stdout).webgpu, null, "cpu leaves WebGPU alone");
  }
});

Deno.test("cli: --version prints package.json's version", async () => {
  const pkg = JSON.parse(await Deno.readTextFile(`${ROOT}/package.json`));
  for (const flag of ["--version", "-V"]) {
    const r = await cli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  }
});

Deno.test("cli: --json prints exactly one JSON document on stdout, for success and failure", async () => {
  const json = async (args: string[], code: number) => {
    const r = await cli([...args, "--json"]);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    return JSON.parse(r.stdout); // throws unless stdout is one JSON document
  };
  assert.deepEqual(await json(["verify", SIGNED, "--keys", JWKS], 0), {
    ok: true,
    path: SIGNED,
    kid: keys.kid,
    schema: "invbench.result/v1",
  });
  const other = await generateKeys();
  const refused = await json([
    "verify",
    SIGNED,
    "--keys",
    await writeJson("json-other.jwks", { keys: [other.publicJwk] }),
  ], 3);
  assert.equal(refused.ok, false);
  assert.equal(refused.exitCode, 3);
  assert.match(refused.error, /not in the trusted keys/);

  const a = await writeJson("json-a.json", standardDoc());
  const agree = await json(["compare", a, a], 0);
  assert.equal(agree.ok, true);
  assert.equal(agree.comparison.compared, standardDoc().rows.length);
  const changed = standardDoc();
  changed.rows[0].metrics.acc_clean = 0.1;
  const differ = await json(["compare", a, await writeJson("json-b.json", changed), "--tolerance", "0"], 4);
  assert.equal(differ.ok, false);
  assert.equal(differ.comparison.differences[0].cell, changed.rows[0].cell);

  const listing = await json(["cache", "ls", "--dir", `${TMP}/no-cache`], 0);
  assert.deepEqual(listing, { ok: true, dir: `${TMP}/no-cache`, entries: [], bytes: 0, tempFiles: 0 });

  const lb = `${ROOT}/tests/fixtures/leaderboard`;
  const submitArgs = [
    "submit",
    `${lb}/submissions/good.json`,
    "--to",
    `${TMP}/subs`,
    "--keys",
    `${lb}/trusted_keys.jwks`,
  ];
  const filed = await json([...submitArgs, "--tracks", `${lb}/tracks.yaml`], 0);
  assert.equal(filed.status, "filed");
  assert.equal(filed.file, `${lb}/submissions/good.json`);
  assert.match(filed.hash, /^[0-9a-f]{64}$/);
  assert.equal((await json([...submitArgs, "--tracks", `${lb}/tracks.yaml`], 0)).status, "duplicate");
});

Deno.test("cli: clean up", async () => {
  await Deno.remove(TMP, { recursive: true });
});

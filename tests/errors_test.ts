/**
 * The error family: every error invbench throws on purpose carries a code, the CLI's exit code is
 * a lookup on it, and anything else (a built-in RangeError from a bug) exits 1 with its stack.
 */
import assert from "node:assert/strict";
import { buildCli, runCli } from "../src/cli/main.ts";
import {
  BackboneError,
  ConfigError,
  DataError,
  EXIT,
  exitCodeOf,
  InputError,
  InputSpecError,
  InvbenchError,
  KeyFileError,
  MatrixError,
  ResultFormatError,
  ResultsDifferError,
  SubmissionError,
  SubmissionsOmittedError,
  TensorError,
  TracksError,
  VerificationError,
} from "../src/errors.ts";
import { cli, tempDir } from "./fixtures/harness.ts";

Deno.test("errors: each kind has its own code and the exit code the CLI documents", () => {
  const cases: [InvbenchError, number][] = [
    [new ConfigError("params.temperature", "-1; expected > 0"), EXIT.invalidInput],
    [new MatrixError("m.yaml", ["x"]), EXIT.invalidInput],
    [new InputError("bad flag"), EXIT.invalidInput],
    [new DataError("f.idx", { offset: 0 }, "a magic number"), EXIT.invalidInput],
    [new BackboneError("no such output"), EXIT.invalidInput],
    [new InputSpecError("size"), EXIT.invalidInput],
    [new TensorError("matmul", "shapes"), EXIT.invalidInput],
    [new ResultFormatError("r.json", ["x"]), EXIT.invalidInput],
    [new KeyFileError("k.jwk: not a key"), EXIT.invalidInput],
    [new TracksError("tracks.yaml", ["x"]), EXIT.invalidInput],
    [new SubmissionError("no-track", "s.json", "x"), EXIT.invalidInput],
    [new SubmissionError("bad-signature", "s.json", "x"), EXIT.verificationFailed],
    [new VerificationError("bad-signature", "x"), EXIT.verificationFailed],
    [new SubmissionsOmittedError("1 left out"), EXIT.verificationFailed],
    [new ResultsDifferError("differ"), EXIT.mismatch],
  ];
  const codes = new Set<string>();
  for (const [e, exit] of cases) {
    assert.ok(e instanceof InvbenchError && e instanceof Error);
    assert.match(e.code, /^ERR_[A-Z_]+$/);
    assert.equal(exitCodeOf(e), exit, `${e.name} (${e.code})`);
    codes.add(e.code);
  }
  // A code per class, and SubmissionError's signature refusals (exit 3) have their own.
  assert.equal(codes.size, cases.length);
  assert.equal(exitCodeOf(new Deno.errors.NotFound("x")), EXIT.invalidInput);
  for (const bug of [new RangeError("x"), new SyntaxError("x"), new TypeError("x"), new Error("x"), "x"]) {
    assert.equal(exitCodeOf(bug), EXIT.failure);
  }
});

Deno.test("errors: a built-in RangeError from a bug exits 1 and prints its stack", async () => {
  const program = buildCli();
  // A command whose code has a bug: an array of negative length.
  program.command("buggy").action(() => {
    new Array(-1);
  });
  const printed: string[] = [];
  const code = await runCli(["buggy"], program, (t) => printed.push(t));
  assert.equal(code, EXIT.failure);
  assert.equal(printed.length, 1);
  assert.match(printed[0], /^invbench: RangeError: Invalid array length\n\s+at /);
  assert.match(printed[0], /errors_test\.ts/, "the stack points at the bug");
});

Deno.test("errors: a bad loss parameter in a matrix exits 2 naming the file, line and field", async () => {
  await using tmp = await tempDir("errors");
  const matrix = `${tmp.dir}/bad_loss.yaml`;
  const text = (await Deno.readTextFile("benchmarks/default.yaml"))
    .replace("../fixtures/", `${Deno.cwd()}/fixtures/`)
    .replace(
      "{ id: simclr, kind: adapter, loss: simclr }",
      "{ id: simclr, kind: adapter, loss: simclr, params: { temperature: -1 } }",
    );
  assert.ok(text.includes("temperature: -1"));
  await Deno.writeTextFile(matrix, text);
  const line = text.split("\n").findIndex((l) => l.includes("temperature: -1")) + 1;
  const r = await cli(["run", matrix, "--out", `${tmp.dir}/out`]);
  assert.equal(r.code, EXIT.invalidInput, r.stderr);
  assert.ok(r.stderr.includes(matrix), r.stderr);
  assert.match(r.stderr, new RegExp(`line ${line}\\b`));
  assert.match(r.stderr, /methods\[3\]\.params\.temperature/);
  assert.ok(!r.stderr.includes("    at "), "a message, not a stack trace");
  assert.equal((await Array.fromAsync(Deno.readDir(tmp.dir))).length, 1, "nothing written");
});

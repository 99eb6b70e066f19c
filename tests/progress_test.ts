/**
 * Progress is the caller's: the library (runMatrix, extraction, the backbone) writes nothing to
 * stderr on its own; a caller that passes callbacks gets the run's lines and the in-cell status.
 */
import assert from "node:assert/strict";
import { runMatrix } from "../src/run/runner.ts";
import { fixture, ROOT, tempDir } from "./fixtures/harness.ts";

Deno.test("progress: runMatrix draws nothing itself, and reports through the callbacks it is given", async () => {
  await using tmp = await tempDir("progress");
  // No callbacks, in a subprocess whose stderr is captured: not one byte.
  const script = `
    import { runMatrix } from "${ROOT}/src/run/runner.ts";
    const r = await runMatrix({ matrix: "${fixture("tiny.yaml")}", out: "${tmp.dir}/silent", backend: "cpu",
      cacheDir: "${tmp.dir}/cache", filters: ["method=mawa", "seed=0"] });
    console.log(r.computed);`;
  // XDG_RUNTIME_DIR set: the GPU driver's loader otherwise complains on stderr when probed.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: ROOT,
    env: { XDG_RUNTIME_DIR: tmp.dir },
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  assert.equal(dec.decode(out.stdout).trim(), "1");
  assert.equal(dec.decode(out.stderr), "", "the library wrote to stderr");

  // With callbacks: the lines of the run and the status inside the cell, cleared at its end.
  const lines: string[] = [], status: string[] = [];
  const r = await runMatrix({
    matrix: fixture("tiny.yaml"),
    out: `${tmp.dir}/told`,
    backend: "cpu",
    cacheDir: `${tmp.dir}/cache-2`,
    filters: ["method=mawa", "seed=0"],
    progress: (line) => lines.push(line),
    status: (text) => status.push(text),
  });
  assert.equal(r.computed, 1);
  assert.ok(lines.some((l) => /^\[1\/1\] mnist fixture rot mawa linear seed 0 …$/.test(l)), lines.join("\n"));
  assert.ok(status.some((s) => /^ {2}\d+\/\d+ images train /.test(s)), "feature extraction reports images");
  assert.ok(status.some((s) => /^ {2}\d+\/3 mawa loss /.test(s)), "training reports epochs");
  assert.equal(status.at(-1), "", "the status line is cleared when the cell ends");
});

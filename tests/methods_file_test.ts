/**
 * Method files (docs/methods.md): a loss from a .ts/.js file, sandboxed, traced, content-addressed,
 * embedded in the result. The file MaWa must give the built-in MaWa's rows exactly; files that
 * reach outside the sandbox, throw, return non-scalars, loop forever or branch on values are
 * refused with exit 2 before anything is written; a result with a method file verifies, fails
 * verification when its embedded source is edited, and reproduces without the file.
 */
import assert from "node:assert/strict";
import { expandMatrix, loadMatrix, parseMatrix } from "../src/catalogs.ts";
import { LOSSES } from "../src/methods/losses/index.ts";
import { loadMethodFiles } from "../src/methods/user/method_files.ts";
import { readPrivateKey, signDocument } from "../src/results/signing.ts";
import { MethodFileError, UserLoss } from "../src/methods/user/user_loss.ts";
import { isTimingMetric, readResult } from "../src/results/schema.ts";
import { runMatrix } from "../src/run/runner.ts";
import { cli, exists, ROOT, tempDir } from "./fixtures/harness.ts";

const EXAMPLE = `${ROOT}/examples/methods/tiny.yaml`;

/** Bodies of `loss(batch, _params, ops)` in method files that must be refused, by file name. */
const REFUSED: Record<string, string> = {
  read_passwd: 'Deno.readTextFileSync("/etc/passwd");\n    return ops.mean(batch.y);',
  fetch: 'fetch("http://127.0.0.1:8080/");\n    return ops.mean(batch.y);',
  read_env: 'const home = Deno.env.get("HOME");\n    return ops.mul(ops.mean(batch.y), home ? 1 : 2);',
  spawn: 'new Deno.Command("true").outputSync();\n    return ops.mean(batch.y);',
  endless: "while (batch.views > 0) ops.mean(batch.y);\n    return ops.mean(batch.y);",
  throws: 'throw new Error("not implemented yet");',
  not_scalar: "return ops.sum(batch.y, 0);",
  data_dependent: "const m = ops.mean(batch.y);\n    return m.toArraySync()[0] > 0 ? m : ops.neg(m);",
  reads_seed: "return ops.mul(ops.mean(batch.y), batch.seed + 1);",
  math_random: "return ops.mul(ops.mean(batch.y), Math.random());",
  eval_import: 'eval("imp" + "ort(\'npm:left-pad\')");\n    return ops.mean(batch.y);',
  imports: "return mean(batch.y);",
};
const REFUSED_DIR = await Deno.makeTempDir({ prefix: "invbench-refused-methods-" });
for (const [name, body] of Object.entries(REFUSED)) {
  await Deno.writeTextFile(
    `${REFUSED_DIR}/${name}.js`,
    `// A method file that must be refused (tests/methods_file_test.ts).
${name === "imports" ? 'import { mean } from "' + ROOT + '/src/tensor/ops.ts";\n' : ""}
export default {
  name: "${name}",
  summary: "refused",
  params: {},
  usesAnchors: true,
  sameDim: true,
  minViews: 1,
  random: false,
  loss(batch, _params, ops) {
    ${body}
  },
};
`,
  );
}
const refused = (name: string) => `${REFUSED_DIR}/${name}.js`;

/** A copy of the example matrix under `dir` whose methods are `methods` (YAML flow items). */
async function matrixIn(dir: string, methods: string[]): Promise<string> {
  const text = (await Deno.readTextFile(EXAMPLE))
    .replace("../../fixtures/backbones/mnist.onnx", `${ROOT}/fixtures/backbones/mnist.onnx`)
    .replace(/methods:\n( {2}- .*\n)+/, `methods:\n${methods.map((m) => `  - ${m}\n`).join("")}`);
  const path = `${dir}/matrix.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("method files: the file MaWa gives rows identical to the built-in mawa (cpu, same seed, every metric)", async () => {
  await using tmp = await tempDir("methods-mawa");
  const r = await runMatrix({
    matrix: EXAMPLE,
    out: `${tmp.dir}/out`,
    backend: "cpu",
    filters: ["method=mawa,mawa-file"],
    cacheDir: `${tmp.dir}/cache`,
    progress: () => {},
  });
  const [builtin, file] = ["mawa", "mawa-file"].map((m) => r.document.rows.find((row) => row.method === m)!);
  assert.notEqual(builtin.cell, file.cell);
  const metrics = Object.keys(builtin.metrics).filter((k) => !isTimingMetric(k));
  assert.ok(metrics.length >= 14, metrics.join());
  for (const k of metrics) assert.equal(file.metrics[k], builtin.metrics[k], k);
  assert.deepEqual(Object.keys(file.metrics).sort(), Object.keys(builtin.metrics).sort());
  assert.deepEqual(file.cost, builtin.cost);
  assert.deepEqual(file.structure_sample, builtin.structure_sample);
  assert.equal(file.status, "ok");
  // The document embeds the file it ran, whole.
  assert.deepEqual(r.document.method_files?.map((m) => m.path), ["./mawa.ts"]);
  assert.equal(
    r.document.method_files![0].source,
    await Deno.readTextFile(`${ROOT}/examples/methods/mawa.ts`),
  );
});

Deno.test("method files: reading /etc/passwd, fetch, an env variable or a subprocess exits 2, nothing written", async () => {
  await using tmp = await tempDir("methods-sandbox");
  const cases = [
    ["read_passwd", /read access to "\/etc\/passwd"/],
    ["fetch", /net access to "127\.0\.0\.1:8080"/],
    ["read_env", /env access to "HOME"/],
    ["spawn", /run access to "true"/],
  ] as const;
  await Promise.all(cases.map(async ([name, tried]) => {
    await Deno.mkdir(`${tmp.dir}/${name}`);
    const matrix = await matrixIn(`${tmp.dir}/${name}`, [
      `{ id: evil, kind: adapter, loss: ${refused(name)} }`,
    ]);
    const out = `${tmp.dir}/${name}/out`;
    const r = await cli(["run", matrix, "--out", out, "--cache", `${tmp.dir}/cache`]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(`${refused(name)}: method file refused: it tried to reach outside the sandbox`),
    );
    assert.match(r.stderr, tried);
    assert.doesNotMatch(r.stderr, /--allow-/, "no hint to grant what a method file never gets");
    assert.match(r.stderr, /named at .*matrix\.yaml line \d+, column \d+: methods\[0\]\.loss/);
    assert.equal(await exists(out), false, `${name}: ${out} was created`);
  }));
});

Deno.test("method files: throwing, non-scalar, value-dependent, non-deterministic, importing and endless files are refused", async () => {
  const cases: [string, RegExp][] = [
    ["throws", /it threw Error: not implemented yet/],
    ["not_scalar", /returned a \[1, 16\] tensor; expected a scalar \[1, 1\]/],
    ["data_dependent", /values were read while tracing: the loss must be a static graph/],
    ["reads_seed", /batch\.seed is not known while tracing/],
    ["math_random", /Math\.random is not allowed/],
    ["eval_import", /evaluating code from strings: Code generation from strings disallowed/],
    ["imports", /line 2: it imports a module .*only `import type` is allowed/],
    ["endless", /did not finish the trace within 1 s \(an endless loop\?\)/],
  ];
  for (const [name, expected] of cases) {
    const file = refused(name);
    await assert.rejects(
      async () => {
        const loss = await UserLoss.load(file, file, await Deno.readTextFile(file), 1000);
        await loss.check(4, {});
      },
      (e: unknown) => {
        assert.ok(e instanceof MethodFileError, `${name}: ${e}`);
        assert.match(e.message, expected, name);
        return true;
      },
      name,
    );
  }
});

Deno.test("method files: parameters are checked against the file's own definition, located in the matrix", async () => {
  await using tmp = await tempDir("methods-params");
  const barlow = `${ROOT}/examples/methods/barlow.ts`;
  const matrix = await matrixIn(tmp.dir, [
    `{ id: b1, kind: adapter, loss: ${barlow}, params: { lambda: -1 } }`,
    `{ id: b2, kind: adapter, loss: ${barlow}, params: { lamda: 0.1 } }`,
  ]);
  const r = await cli(["run", matrix, "--out", `${tmp.dir}/out`]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /line 20, column \d+: methods\[0\]\.params\.lambda: .*>=0/);
  assert.match(
    r.stderr,
    /line 21, column \d+: methods\[1\]\.params\.lamda: unknown parameter "lamda" for loss barlow-twins; expected one of lambda/,
  );
  assert.equal(await exists(`${tmp.dir}/out`), false);
});

Deno.test("method files: a cell's id follows the file's content, not its path", async () => {
  await using tmp = await tempDir("methods-ids");
  const idsOf = async (matrix: string) => {
    const parsed = await loadMatrix(matrix);
    return expandMatrix(parsed.spec, await loadMethodFiles(parsed)).map((c) => c.id);
  };
  const source = await Deno.readTextFile(`${ROOT}/examples/methods/mawa.ts`);
  await Deno.mkdir(`${tmp.dir}/elsewhere`);
  await Deno.writeTextFile(`${tmp.dir}/elsewhere/renamed.ts`, source);
  const moved = await idsOf(
    await matrixIn(tmp.dir, ["{ id: mawa-file, kind: adapter, loss: ./elsewhere/renamed.ts }"]),
  );
  const original = await idsOf(
    await matrixIn(tmp.dir, [`{ id: mawa-file, kind: adapter, loss: ${ROOT}/examples/methods/mawa.ts }`]),
  );
  assert.deepEqual(moved, original);
  await Deno.writeTextFile(
    `${tmp.dir}/elsewhere/renamed.ts`,
    source.replace("anchored MSE", "anchored MSE."),
  );
  const edited = await idsOf(
    await matrixIn(tmp.dir, ["{ id: mawa-file, kind: adapter, loss: ./elsewhere/renamed.ts }"]),
  );
  assert.notDeepEqual(edited, original);
});

Deno.test("method files: the result verifies, fails when its embedded source is edited, and reproduces from the document alone", async () => {
  await using tmp = await tempDir("methods-result");
  await Deno.copyFile(`${ROOT}/examples/methods/barlow.ts`, `${tmp.dir}/barlow.ts`);
  const matrix = await matrixIn(tmp.dir, ["{ id: barlow, kind: adapter, loss: ./barlow.ts }"]);
  const key = `${tmp.dir}/author.jwk`;
  assert.equal((await cli(["keys", "generate", "--out", key])).code, 0);
  const out = `${tmp.dir}/run`;
  const run = await cli(["run", matrix, "--out", out, "--key", key, "--cache", `${tmp.dir}/cache`]);
  assert.equal(run.code, 0, run.stderr);
  const result = `${out}/result.json`;
  const keys = `${out}/signer.jwks`;
  assert.equal((await cli(["verify", result, "--keys", keys])).code, 0);

  const raw = JSON.parse(await Deno.readTextFile(result));
  const embedded = readResult(raw).method_files![0];
  assert.equal(embedded.source, await Deno.readTextFile(`${tmp.dir}/barlow.ts`));
  assert.equal(raw.rows[0].cell.length, 16);
  // One character of the embedded source changed: the signature no longer holds.
  raw.method_files[0].source = embedded.source.replace("0.005", "0.006");
  await Deno.writeTextFile(`${tmp.dir}/edited.json`, JSON.stringify(raw));
  const edited = await cli(["verify", `${tmp.dir}/edited.json`, "--keys", keys]);
  assert.equal(edited.code, 3, edited.stderr);
  assert.match(edited.stderr, /does not verify/);
  // Re-signed by its author after the edit: the embedded source no longer has its sha256.
  const resigned = await signDocument(raw, await readPrivateKey(key));
  await Deno.writeTextFile(`${tmp.dir}/resigned.json`, JSON.stringify(resigned));
  const stale = await cli(["verify", `${tmp.dir}/resigned.json`, "--keys", keys]);
  assert.equal(stale.code, 2, stale.stderr);
  assert.match(stale.stderr, /method_files\.0\.sha256: sha256 is not the sha256 of the embedded source/);

  // The method file and the matrix are gone; reproduce takes both from the document.
  await Deno.remove(`${tmp.dir}/barlow.ts`);
  await Deno.remove(matrix);
  const again = await cli([
    "reproduce",
    result,
    "--cells",
    "1",
    "--keys",
    keys,
    "--out",
    `${tmp.dir}/again`,
  ], { env: { INVBENCH_CACHE_DIR: `${tmp.dir}/cache` } });
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.match(again.stdout, /compared 1 shared cells/);
});

Deno.test("method files: clean up", async () => {
  await Deno.remove(REFUSED_DIR, { recursive: true });
});

Deno.test("method files: a loss that is neither a built-in nor a .ts/.js path is refused, listing both", () => {
  const text = `schema: invbench.matrix/v1
name: x
version: 0.0.1
datasets: [{ id: mnist, source: mnist }]
backbones:
  - { id: b, onnx: m.onnx, input: { size: [28, 28], channels: 1, mean: [0], std: [1] } }
augmentations: [{ id: rot, kind: rotation }]
methods: [{ id: m, kind: adapter, loss: mawx }]
classifiers: [linear]
seeds: [0]
`;
  assert.throws(() => parseMatrix(text, "m.yaml"), (e: Error) => {
    const listed =
      /line 8, column \d+: methods\[0\]\.loss: expected a built-in loss \(([^)]*)\) or a method file path ending in \.ts or \.js/
        .exec(e.message);
    assert.ok(listed, e.message);
    assert.deepEqual(listed[1].split(", ").sort(), [...LOSSES.names].sort());
    return true;
  });
});

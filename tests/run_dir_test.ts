/**
 * The run directory's guards (src/run/run_dir.ts), each reproducing a defect of issue 15 through
 * the CLI on real MNIST and the fixture ONNX backbone: a run never writes over a result it did not
 * make, a resume refuses changed inputs, two runs never share a directory, a truncated cell file
 * is moved aside and recomputed, and temp files of a killed run are removed.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import {
  cli,
  exists,
  fixture,
  listDir,
  oneCell,
  ROOT,
  snapshot,
  tempDir,
  tinyMatrix,
} from "./fixtures/harness.ts";

const OTHER_ONNX = `${ROOT}/fixtures/backbones/fashion-mnist.onnx`;

Deno.test("run dir: --out holding a result but no run.json is refused, and nothing in it changes", async () => {
  await using t = await tempDir("rundir-foreign");
  const out = `${t.dir}/reference`;
  await Deno.mkdir(out);
  for (const name of ["result.json", "result.csv", "result.md"]) {
    await Deno.copyFile(`${ROOT}/results/default/1.0.0/${name}`, `${out}/${name}`);
  }
  const before = await snapshot(out);
  const r = await cli(["run", fixture("tiny.yaml"), "--out", out, "--backend", "cpu"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /holds result\.csv, result\.json, result\.md but no run\.json/);
  assert.ok(r.stderr.includes(out));
  assert.deepEqual(await snapshot(out), before);
});

Deno.test("run dir: a resume after the ONNX file changed is refused; the result stays as it was", async () => {
  await using t = await tempDir("rundir-model");
  const matrix = await tinyMatrix(t.dir);
  const out = `${t.dir}/out`;
  const first = await oneCell(matrix, out, t.dir);
  assert.equal(first.code, 0, first.stderr);
  const before = await snapshot(out);

  await Deno.copyFile(OTHER_ONNX, `${t.dir}/model.onnx`);
  const swapped = await oneCell(matrix, out, t.dir);
  assert.equal(swapped.code, 2, swapped.stderr);
  assert.match(
    swapped.stderr,
    /backbone fixture at sha256 [0-9a-f]{12}…, but its ONNX file \(and its external data\) now hash/,
  );
  assert.deepEqual(await snapshot(out), before, "nothing written, the lock released");

  // The original model back: the run resumes (nothing to compute).
  await Deno.copyFile(`${ROOT}/fixtures/backbones/mnist.onnx`, `${t.dir}/model.onnx`);
  const restored = await oneCell(matrix, out, t.dir);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /1 cells \(0 computed, 1 resumed\)/);
});

Deno.test("run dir: a live run's lock refuses a second run; a dead run's lock is taken over", async () => {
  await using t = await tempDir("rundir-lock");
  const matrix = await tinyMatrix(t.dir);
  const out = `${t.dir}/out`;
  await Deno.mkdir(out);
  // This test process stands for a run in progress.
  await Deno.writeTextFile(`${out}/.lock`, JSON.stringify({ pid: Deno.pid, host: hostname() }));
  const busy = await oneCell(matrix, out, t.dir);
  assert.equal(busy.code, 2, busy.stderr);
  assert.match(busy.stderr, new RegExp(`in use by another run \\(pid ${Deno.pid} on `));
  assert.deepEqual(await listDir(out), [".lock"]);

  // A finished process's pid: the lock of a killed run.
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  await Deno.writeTextFile(`${out}/.lock`, JSON.stringify({ pid: dead.pid, host: hostname() }));
  // Temp files of atomic writes the killed run left behind, in the run and in the cache; and a
  // cache temp file of a live writer (this process), which stays.
  const stale = `${out}/.result.json.${dead.pid}-0123456789ab.tmp`;
  await Deno.writeTextFile(stale, "half a result");
  await Deno.mkdir(`${t.dir}/cache`, { recursive: true });
  const staleEntry = `${t.dir}/cache/.${"a".repeat(64)}.${dead.pid}-0123456789ab.tmp`;
  const liveEntry = `${t.dir}/cache/.${"b".repeat(64)}.${Deno.pid}-0123456789ab.tmp`;
  await Deno.writeTextFile(staleEntry, "half an entry");
  await Deno.writeTextFile(liveEntry, "an entry being written");
  const r = await oneCell(matrix, out, t.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!(await exists(`${out}/.lock`)), "released at the end");
  assert.ok(!(await exists(stale)), "stale temp file removed");
  assert.ok(!(await exists(staleEntry)), "stale cache temp file removed");
  assert.ok(await exists(liveEntry), "a live writer's temp file is left alone");
});

Deno.test("run dir: two runs of different matrices on one --out at once: one runs, the other is refused", async () => {
  await using t = await tempDir("rundir-race");
  const matrix = await tinyMatrix(t.dir);
  const out = `${t.dir}/out`;
  const other = `${t.dir}/other.yaml`;
  await Deno.writeTextFile(
    other,
    (await Deno.readTextFile(matrix)).replace("name: tiny-test", "name: tiny-other"),
  );
  const [a, b] = await Promise.all([oneCell(matrix, out, t.dir), oneCell(other, out, t.dir)]);
  assert.deepEqual([a.code, b.code].sort(), [0, 2], `${a.stderr}\n${b.stderr}`);
  const loser = a.code === 2 ? a : b;
  assert.match(loser.stderr, /in use by another run|holds a run of tiny-/);
  const plan = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
  const result = JSON.parse(await Deno.readTextFile(`${out}/result.json`));
  assert.equal(result.matrix.sha256, plan.matrix.sha256, "run.json and result.json are of one matrix");
  assert.equal(result.matrix.name, a.code === 0 ? "tiny-test" : "tiny-other");
});

Deno.test("run dir: a truncated cell file is moved aside, named, and recomputed", async () => {
  await using t = await tempDir("rundir-cell");
  const matrix = await tinyMatrix(t.dir);
  const out = `${t.dir}/out`;
  assert.equal((await oneCell(matrix, out, t.dir)).code, 0);
  const [cell] = (await listDir(`${out}/cells`)).filter((n) => n.endsWith(".json"));
  const path = `${out}/cells/${cell}`;
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, text.slice(0, text.length >> 1));
  const r = await oneCell(matrix, out, t.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes(`${path} is not a valid row; moved to ${path}.unreadable`), r.stderr);
  assert.match(r.stdout, /1 cells \(1 computed, 0 resumed\)/);
  assert.equal(await Deno.readTextFile(`${path}.unreadable`), text.slice(0, text.length >> 1));
  assert.ok(JSON.parse(await Deno.readTextFile(path)).cell, "recomputed");
});

Deno.test("run dir: a plan no finished cell uses (a run that failed in its first cell) is replaced by a corrected one", async () => {
  await using t = await tempDir("rundir-replan");
  const matrix = await tinyMatrix(t.dir);
  const out = `${t.dir}/out`;
  // What a run of another (since corrected) matrix leaves when its first cell fails: a plan, no cells.
  await Deno.mkdir(`${out}/cells`, { recursive: true });
  const stale = {
    matrix: { name: "tiny-test", version: "0.0.1", sha256: "0".repeat(64) },
    cells: ["0".repeat(16)],
  };
  await Deno.writeTextFile(`${out}/run.json`, JSON.stringify(stale));
  const r = await oneCell(matrix, out, t.dir);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
  assert.notEqual(plan.matrix.sha256, stale.matrix.sha256, "the corrected plan replaced the unused one");
  assert.equal(plan.cells.length, 1);

  // Once a cell has finished, another plan is refused.
  const other = `${t.dir}/other.yaml`;
  await Deno.writeTextFile(
    other,
    (await Deno.readTextFile(matrix)).replace("name: tiny-test", "name: tiny-other"),
  );
  const refused = await oneCell(other, out, t.dir);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /holds a run of tiny-test 0\.0\.1/);
});

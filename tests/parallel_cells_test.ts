/**
 * Cells run at once (`--jobs`, src/run/cell_pool.ts): the rows are those of cells run in turn,
 * bit for bit; each feature set is still extracted once; a cell's error crosses the thread
 * boundary with its exit code; a bad --jobs is refused before anything is written.
 */
import assert from "node:assert/strict";
import { ConfigError, exitCodeOf } from "../src/errors.ts";
import type { ResultRow } from "../src/results/schema.ts";
import { expandMatrix, loadMatrix } from "../src/catalogs.ts";
import { isAdapter } from "../src/matrix/schema.ts";
import { receivedError, scheduleOrder, sendableError } from "../src/run/cell_pool.ts";
import { runMatrix } from "../src/run/runner.ts";
import { cli, exists, fixture, ROOT, tempDir } from "./fixtures/harness.ts";

/** Two feature groups (rotation, noise) of two cells each (EC and MaWa). */
const TWO_GROUPS = fixture("tiny_two_groups.yaml");

const untimed = (r: ResultRow) => ({
  ...r,
  metrics: Object.fromEntries(Object.entries(r.metrics).filter(([k]) => !k.endsWith("_seconds"))),
});

Deno.test("parallel cells: --jobs 2 writes the rows of --jobs 1 bit for bit and extracts each feature set once", async () => {
  await using t = await tempDir("parallel-cells");
  const run = (jobs: number) =>
    runMatrix({
      matrix: TWO_GROUPS,
      out: `${t.dir}/jobs-${jobs}`,
      backend: "cpu",
      cacheDir: `${t.dir}/cache-${jobs}`,
      jobs,
    });
  const one = await run(1);
  const two = await run(2);
  assert.equal(two.computed, 4);
  assert.deepEqual(two.document.rows.map(untimed), one.document.rows.map(untimed));
  // The workers read what this thread put in the cache before handing them each cell.
  assert.equal(two.cache.extracted, one.cache.extracted);
  const log = await Deno.readTextFile(`${t.dir}/jobs-2/log.txt`);
  assert.match(log, /running 2 cells at once \(--jobs 2\)/);
  // Resuming a parallel run recomputes nothing.
  const again = await run(2);
  assert.equal(again.computed, 0);
  assert.equal(again.resumed, 4);
});

Deno.test("parallel cells: an error from a worker keeps its exit code, message and stack", () => {
  const config = receivedError(sendableError(new ConfigError("training.view_pool", "too many")));
  assert.equal(exitCodeOf(config), 2);
  assert.equal(config.message, "training.view_pool: too many");
  assert.match(config.stack ?? "", /parallel_cells_test\.ts/);
  const bug = receivedError(sendableError(new RangeError("index 7 out of range")));
  assert.equal(exitCodeOf(bug), 1);
  assert.equal(bug.name, "RangeError");
});

Deno.test("parallel cells: --jobs 0 is refused with exit 2 before a run directory is made", async () => {
  await using t = await tempDir("parallel-jobs");
  const r = await cli(["run", TWO_GROUPS, "--out", `${t.dir}/run`, "--jobs", "0"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--jobs 0: expected a positive integer/);
  assert.equal(await exists(`${t.dir}/run`), false);
});

Deno.test("parallel cells: adapters go first, and cells sharing features go together", async () => {
  const cells = expandMatrix((await loadMatrix(`${ROOT}/benchmarks/default.yaml`)).spec);
  const order = scheduleOrder(cells.map((cell) => ({ cell }))).map((x) => x.cell);
  assert.deepEqual(order.map((c) => c.id).sort(), cells.map((c) => c.id).sort());
  const adapters = cells.filter((c) => isAdapter(c.spec.method)).length;
  assert.ok(adapters > 0 && adapters < cells.length);
  assert.equal(order.findIndex((c) => !isAdapter(c.spec.method)), adapters, "every adapter cell first");
  // Then tta, whose 8 backbone passes per input made it the last cells to finish when it came last.
  const tta = cells.filter((c) => c.spec.method.kind === "tta").length;
  assert.ok(order.slice(adapters, adapters + tta).every((c) => c.spec.method.kind === "tta"), "tta next");
  // The first two cells read the same features (one extraction before both workers start).
  assert.deepEqual([order[1].augmentation, order[1].seed], [order[0].augmentation, order[0].seed]);
});

/**
 * The signed reference results pin the matrix format: each result's matrix, parsed and expanded
 * today, gives back the spec embedded in the result and exactly the cell ids of its rows. A
 * change to the schema, the catalogs or expansion that would move a cell id fails here.
 */
import assert from "node:assert/strict";
import { expandMatrix, parseMatrix } from "../src/catalogs.ts";
import { ROOT } from "./fixtures/harness.ts";

const RESULTS = [...Deno.readDirSync(`${ROOT}/results`)].filter((e) => e.isDirectory).map((e) => e.name)
  .sort();

Deno.test("cell ids: every reference result's matrix parses to its embedded spec and its cell ids", async () => {
  assert.ok(RESULTS.length >= 3, RESULTS.join(", "));
  for (const name of RESULTS) {
    const doc = JSON.parse(await Deno.readTextFile(`${ROOT}/results/${name}/1.0.0/result.json`));
    const parsed = parseMatrix(await Deno.readTextFile(`${ROOT}/${doc.matrix.path}`), doc.matrix.path);
    assert.deepEqual(JSON.parse(JSON.stringify(parsed.spec)), doc.matrix.spec, `${name}: parsed spec`);
    const ids = expandMatrix(parsed.spec).map((c) => c.id).sort();
    const rows = (doc.rows as { cell: string }[]).map((r) => r.cell).sort();
    assert.ok(rows.length > 0);
    assert.deepEqual(ids, rows, `${name}: cell ids`);
  }
});

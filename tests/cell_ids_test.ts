/**
 * The signed reference results pin the matrix format: each result's embedded spec, parsed and
 * expanded today, gives back itself and exactly the cell ids of its rows (so older results keep
 * their cells after defaults changed), and a result whose matrix file is still the one it ran
 * (same sha256) parses from that file to the same spec. A change to the schema, the catalogs or
 * expansion that would move a cell id fails here.
 */
import assert from "node:assert/strict";
import { expandMatrix, parseMatrix } from "../src/catalogs.ts";
import { sha256Hex } from "../src/util/hash.ts";
import { ROOT } from "./fixtures/harness.ts";

const RESULTS = [...Deno.readDirSync(`${ROOT}/results`)].filter((e) => e.isDirectory).flatMap((e) =>
  [...Deno.readDirSync(`${ROOT}/results/${e.name}`)].filter((v) => v.isDirectory).map((v) =>
    `${e.name}/${v.name}`
  )
).sort();

Deno.test("cell ids: every reference result's embedded spec (and current matrix file) gives its cell ids", async () => {
  assert.ok(RESULTS.length >= 3, RESULTS.join(", "));
  let fromFile = 0;
  for (const name of RESULTS) {
    const doc = JSON.parse(await Deno.readTextFile(`${ROOT}/results/${name}/result.json`));
    const embedded = parseMatrix(JSON.stringify(doc.matrix.spec), doc.matrix.path);
    assert.deepEqual(JSON.parse(JSON.stringify(embedded.spec)), doc.matrix.spec, `${name}: embedded spec`);
    const ids = expandMatrix(embedded.spec).map((c) => c.id).sort();
    const rows = (doc.rows as { cell: string }[]).map((r) => r.cell).sort();
    assert.ok(rows.length > 0);
    assert.deepEqual(ids, rows, `${name}: cell ids`);
    const text = await Deno.readTextFile(`${ROOT}/${doc.matrix.path}`).catch(() => null);
    if (text === null || sha256Hex(text) !== doc.matrix.sha256) continue;
    fromFile++;
    const parsed = parseMatrix(text, doc.matrix.path);
    assert.deepEqual(JSON.parse(JSON.stringify(parsed.spec)), doc.matrix.spec, `${name}: parsed spec`);
  }
  assert.ok(fromFile >= 1, "at least the fashion-mnist result still runs its committed matrix file");
});

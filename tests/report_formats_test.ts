/**
 * `invbench report --format csv|jsonl|parquet`: the committed default result as flat tables, one
 * row per cell or per group; the three formats carry the same columns; the Parquet file, read back
 * with hyparquet, types every column (DOUBLE, INT64, BOOLEAN, UTF8) and holds the JSONL's values;
 * metrics and params that today's harness does not know become columns too; nothing is
 * overwritten and bad input exits 2.
 */
import assert from "node:assert/strict";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { cellTable, summaryTable } from "../src/results/flat_table.ts";
import { readResult } from "../src/results/schema.ts";
import { cli, ROOT, tempDir } from "./fixtures/harness.ts";

const RESULT = `${ROOT}/results/default/1.0.0/result.json`;
const raw = JSON.parse(await Deno.readTextFile(RESULT));
const doc = readResult(raw, RESULT);

/** Parses CSV as this project writes it (RFC 4180 quoting). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"', i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (row.push(field), field = "");
    else if (ch === "\n") (row.push(field), rows.push(row), row = [], field = "");
    else field += ch;
  }
  return rows;
}

/** Parquet's name for each column's type: physical type, or UTF8 for strings. */
async function parquetTypes(path: string): Promise<Map<string, string>> {
  const bytes = await Deno.readFile(path);
  const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return new Map(
    md.schema.slice(1).map((e) => [
      e.name,
      e.type === "BYTE_ARRAY" && e.converted_type === "UTF8" ? "UTF8" : String(e.type),
    ]),
  );
}

const PARQUET_TYPE = { double: "DOUBLE", int: "INT64", boolean: "BOOLEAN", string: "UTF8" } as const;

Deno.test("report: the cell table of the default result has every metric, cost, resolved param and run column", () => {
  const t = cellTable(doc);
  assert.equal(t.rows.length, doc.rows.length);
  const type = new Map(t.columns.map((c) => [c.name, c.type]));
  for (const m of Object.keys(doc.rows[0].metrics)) assert.equal(type.get(`metrics.${m}`), "double", m);
  for (
    const [name, want] of [
      ["seed", "int"],
      ["cost.trainable_parameters", "int"],
      ["method.params.directions", "int"], // WaCo's, set in the matrix
      ["method.params.temperature", "double"], // SimCLR's default, resolved
      ["method.training.epochs", "int"],
      ["method.training.lr", "double"],
      ["classifier.epochs", "int"],
      ["backend", "string"],
      ["harness.commit", "string"],
      ["harness.dirty", "boolean"],
      ["spec_verified", "boolean"],
    ] as const
  ) assert.equal(type.get(name), want, name);
  const col = (name: string) => t.columns.findIndex((c) => c.name === name);
  // The resolved spec of every row hashes to its cell id: it is exactly what ran.
  assert.ok(t.rows.every((r) => r[col("spec_verified")] === true));
  const simclr = t.rows.find((r) => r[col("method")] === "simclr")!;
  assert.equal(simclr[col("method.params.temperature")], 0.5);
  assert.equal(
    simclr[col("method.training.hidden")],
    (doc.matrix.spec.training as { hidden: number }).hidden,
  );
  assert.equal(simclr[col("backend")], "cpu");
  assert.equal(simclr[col("harness.commit")], doc.harness.commit);
});

Deno.test("report: metrics and params today's harness does not know become typed columns", () => {
  const changed = structuredClone(raw);
  for (const r of changed.rows) r.metrics.e_collision_test = r.seed / 10;
  const waco = changed.matrix.spec.methods.find((m: { id: string }) => m.id === "waco");
  waco.params.q = 0.25;
  const t = cellTable(readResult(changed));
  const type = new Map(t.columns.map((c) => [c.name, c.type]));
  assert.equal(type.get("metrics.e_collision_test"), "double");
  assert.equal(type.get("method.params.q"), "double");
  const col = (name: string) => t.columns.findIndex((c) => c.name === name);
  for (const r of t.rows) {
    // WaCo's rows no longer hash to their ids (the matrix was edited): spec_verified says so.
    assert.equal(r[col("spec_verified")], r[col("method")] !== "waco");
    assert.equal(r[col("metrics.e_collision_test")], (r[col("seed")] as number) / 10);
  }
});

Deno.test("report: a merged result's rows name the backend and commit of the shard that ran them", () => {
  const merged = structuredClone(raw);
  const cells: string[] = merged.rows.map((r: { cell: string }) => r.cell);
  const shard = (i: number, chosen: string, commit: string) => ({
    directory: `shard-${i}`,
    harness: { ...merged.harness, commit },
    environment: { ...merged.environment, backend: { ...merged.environment.backend, chosen } },
    cells: cells.filter((_, j) => j % 2 === i),
  });
  merged.provenance = {
    matrix_cells: cells.length,
    merged_from: [shard(0, "cpu", "a".repeat(40)), shard(1, "webgpu", "b".repeat(40))],
  };
  const t = cellTable(readResult(merged));
  const col = (name: string) => t.columns.findIndex((c) => c.name === name);
  t.rows.forEach((r, j) => {
    assert.equal(r[col("backend")], j % 2 ? "webgpu" : "cpu");
    assert.equal(r[col("harness.commit")], (j % 2 ? "b" : "a").repeat(40));
  });
});

Deno.test("report: csv, jsonl and parquet carry the same columns; parquet reads back typed with the same values", async () => {
  await using tmp = await tempDir("report-formats");
  for (const table of ["cells", "summary"] as const) {
    const want = table === "cells" ? cellTable(doc) : summaryTable(doc);
    const names = want.columns.map((c) => c.name);
    const csvPath = `${tmp.dir}/${table}.csv`, jsonlPath = `${tmp.dir}/${table}.jsonl`;
    const parquetPath = `${tmp.dir}/${table}.parquet`;
    for (const [format, out] of [["csv", csvPath], ["jsonl", jsonlPath], ["parquet", parquetPath]]) {
      const r = await cli(["report", RESULT, "--format", format, "--table", table, "--out", out]);
      assert.equal(r.code, 0, r.stderr);
    }
    const csv = parseCsv(await Deno.readTextFile(csvPath));
    assert.deepEqual(csv[0], names);
    assert.equal(csv.length - 1, want.rows.length);
    const jsonl = (await Deno.readTextFile(jsonlPath)).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(jsonl.length, want.rows.length);
    for (const o of jsonl) assert.deepEqual(Object.keys(o), names);

    const types = await parquetTypes(parquetPath);
    assert.deepEqual([...types.keys()], names);
    for (const c of want.columns) assert.equal(types.get(c.name), PARQUET_TYPE[c.type], c.name);
    assert.ok(want.columns.some((c) => c.type === "double") && want.columns.some((c) => c.type === "int"));
    assert.ok(want.columns.some((c) => c.type === "boolean"));

    const bytes = await Deno.readFile(parquetPath);
    const rows = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    });
    const plain = rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]))
    );
    assert.deepEqual(plain, jsonl);
    // The summary's statistics are the document's.
    if (table === "summary") {
      doc.summary.forEach((s, i) => {
        assert.equal(jsonl[i]["metrics.acc_aug.mean"], s.metrics.acc_aug.mean);
        assert.equal(jsonl[i]["metrics.acc_aug.ci95_hi"], s.metrics.acc_aug.ci95[1]);
        assert.equal(jsonl[i]["n_seeds"], s.seeds.length);
      });
    }
  }
});

Deno.test("report: never overwrites, parquet needs --out, and bad input exits 2", async () => {
  await using tmp = await tempDir("report-refusals");
  const mine = `${tmp.dir}/mine.csv`;
  await Deno.writeTextFile(mine, "my notes\n");
  const over = await cli(["report", RESULT, "--format", "csv", "--out", mine]);
  assert.equal(over.code, 2, over.stderr);
  assert.match(over.stderr, /already exists; report never overwrites/);
  assert.equal(await Deno.readTextFile(mine), "my notes\n");

  const noOut = await cli(["report", RESULT, "--format", "parquet"]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /give --out FILE/);

  const notResult = `${tmp.dir}/not.json`;
  await Deno.writeTextFile(notResult, JSON.stringify({ schema: "other/v1" }));
  const bad = await cli(["report", notResult, "--format", "parquet", "--out", `${tmp.dir}/x.parquet`]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected invbench\.result\/v1/);
  await assert.rejects(Deno.stat(`${tmp.dir}/x.parquet`), Deno.errors.NotFound);

  const mdSummary = await cli(["report", RESULT, "--format", "md", "--table", "summary"]);
  assert.equal(mdSummary.code, 2);
});

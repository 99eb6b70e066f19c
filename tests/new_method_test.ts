/**
 * `invbench new-method NAME`: the template loss and its tiny matrix run as written, through the CLI
 * in a subprocess; existing files are never overwritten; names that the template's matrix or the
 * built-in losses already use are refused before anything is written.
 */
import assert from "node:assert/strict";
import { readResult } from "../src/results/schema.ts";
import { cli, listDir, tempDir } from "./fixtures/harness.ts";

Deno.test("new-method: the template and its matrix run as written, one row per method", async () => {
  await using tmp = await tempDir("new-method");
  const made = await cli(["new-method", "mine", "--dir", tmp.dir]);
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual((await listDir(tmp.dir)).sort(), ["mine.ts", "mine.yaml"]);
  const r = await cli([
    "run",
    `${tmp.dir}/mine.yaml`,
    "--out",
    `${tmp.dir}/out`,
    "--cache",
    `${tmp.dir}/cache`,
  ], {
    cwd: tmp.dir,
  });
  assert.equal(r.code, 0, r.stderr);
  const doc = readResult(JSON.parse(await Deno.readTextFile(`${tmp.dir}/out/result.json`)), "result.json");
  assert.deepEqual(doc.rows.map((row) => [row.method, row.status]).sort(), [
    ["ec", "ok"],
    ["mawa", "ok"],
    ["mine", "ok"],
  ]);
});

Deno.test("new-method: existing files, bad names and names already taken are refused, nothing written", async () => {
  await using tmp = await tempDir("new-method-refused");
  await Deno.writeTextFile(`${tmp.dir}/mine.yaml`, "mine\n");
  const cases: [string, RegExp][] = [
    ["mine", /mine\.yaml already exists; new-method never overwrites a file/],
    ["Bad name", /method name "Bad name": expected lowercase letters/],
    // The template's matrix has methods ec and mawa; a built-in loss's name would read as that loss.
    ["mawa", /method name "mawa": already a built-in loss or a method id of the template's matrix/],
    ["ec", /method name "ec": already a built-in loss or a method id of the template's matrix/],
    ["simclr", /method name "simclr": already a built-in loss/],
  ];
  for (const [name, message] of cases) {
    const r = await cli(["new-method", name, "--dir", tmp.dir]);
    assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(await listDir(tmp.dir), ["mine.yaml"]);
  assert.equal(await Deno.readTextFile(`${tmp.dir}/mine.yaml`), "mine\n");
});

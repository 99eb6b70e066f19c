/**
 * Fresh views (training.view_pool: fresh) end to end through the CLI on the CPU backend: two runs
 * that share no feature cache, and two shards merged, agree bit for bit; every method is charged
 * its view budget; the collision rates in the method's space (e_collision_*) equal F's for the
 * no-adapter row, whose E is the identity.
 */
import assert from "node:assert/strict";
import { readResult } from "../src/results/schema.ts";
import { generateKeys, writePrivateKey } from "../src/results/signing.ts";
import { freshViewIndex } from "../src/methods/fresh_views.ts";
import { cli, fixture, tempDir } from "./fixtures/harness.ts";

const MATRIX = fixture("tiny_fresh.yaml");

async function ok(r: Promise<{ code: number; stdout: string; stderr: string }>) {
  const done = await r;
  assert.equal(done.code, 0, done.stderr);
  return done;
}

Deno.test("fresh views: view k of epoch e is augmented view e·s + k, never reused", () => {
  const seen = new Set<number>();
  for (let e = 0; e < 5; e++) for (let k = 0; k < 3; k++) seen.add(freshViewIndex(e, 3, k));
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 15 }, (_, i) => i));
});

Deno.test("fresh views: rows are identical across two runs and across --shard splits (cpu)", async () => {
  await using tmp = await tempDir("fresh-views");
  const run = (out: string, cache: string, ...extra: string[]) =>
    ok(cli(["run", MATRIX, "--out", out, "--cache", cache, "--backend", "cpu", ...extra]));
  const [a, b] = [`${tmp.dir}/a`, `${tmp.dir}/b`];
  await run(a, `${tmp.dir}/cache-a`);
  await run(b, `${tmp.dir}/cache-b`);
  const exact = ["--tolerance", "0", "--seed-sd", "0"];
  await ok(cli(["compare", `${a}/result.json`, `${b}/result.json`, ...exact]));

  const shards = [0, 1].map((i) => `${tmp.dir}/shard-${i}`);
  for (const [i, dir] of shards.entries()) await run(dir, `${tmp.dir}/cache-shard-${i}`, "--shard", `${i}/2`);
  const key = `${tmp.dir}/key.jwk`;
  await writePrivateKey(key, await generateKeys());
  await ok(cli(["merge", ...shards, "--out", `${tmp.dir}/merged`, "--key", key]));
  await ok(cli(["compare", `${a}/result.json`, `${tmp.dir}/merged/result.json`, ...exact]));

  const doc = readResult(JSON.parse(await Deno.readTextFile(`${a}/result.json`)));
  const training = doc.matrix.spec.training as { view_pool: unknown };
  assert.equal(training.view_pool, "fresh", "the result states its view regime");
  for (const row of doc.rows) {
    // Budget: 2 epochs × 2 fresh views per image, plus the clean image; steer defaults to as many views.
    const train = { ec: 1, mawa: 2 * 2 + 1, steer: 2 * 2 + 1 }[row.method];
    assert.deepEqual(
      [row.cost.backbone_passes_train, row.cost.backbone_passes_test],
      [train, 1],
      `${row.method} seed ${row.seed}`,
    );
    const m = row.metrics;
    for (const name of ["e_collision_raw", "e_collision_aligned"]) {
      assert.ok(m[name]! >= 0 && m[name]! <= 1, `${name} ${m[name]} is a rate`);
    }
    if (row.method === "ec") {
      assert.equal(m.e_collision_raw, m.collision_raw);
      assert.equal(m.e_collision_aligned, m.collision_aligned);
    }
  }
  // Steer carries views back to the clean ones: in its space, fewer augmented points land on another class.
  const mean = (method: string) =>
    doc.rows.filter((r) => r.method === method).reduce((s, r) => s + r.metrics.e_collision_raw!, 0) / 2;
  assert.ok(mean("steer") < mean("ec"), `steer ${mean("steer")} vs ec ${mean("ec")}`);
});

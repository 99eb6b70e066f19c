/**
 * Shards: `--shard-by group` keeps every (dataset, backbone, augmentation) group on one shard,
 * balanced by estimated cost, so each group's augmented features are extracted on one node only
 * (shown with real runs, each shard with its own feature cache as on separate nodes); `--shard
 * auto` reads Slurm's and Kubernetes' variables and refuses what does not add up.
 */
import assert from "node:assert/strict";
import { listCache } from "../src/cache/feature_cache.ts";
import { estimateCost, groupKey } from "../src/matrix/cost.ts";
import { expandMatrix, parseMatrix } from "../src/catalogs.ts";
import { splitIntoShards } from "../src/matrix/shard.ts";
import { resolveShard } from "../src/run/scheduler_shard.ts";
import { cli, fixture, tempDir } from "./fixtures/harness.ts";

/** Two feature groups (rotation, noise) of two cells each; paths relative, so cell ids are fixed. */
const TWO_GROUPS = fixture("tiny_two_groups.yaml");

Deno.test("shard by group: groups stay whole, shards are disjoint, cover the matrix, balance cost", () => {
  const grid = parseMatrix(Deno.readTextFileSync(fixture("grid.yaml"))).spec;
  const cells = expandMatrix(grid);
  const groups = new Set(cells.map(groupKey));
  for (let count = 1; count <= groups.size; count++) {
    const shards = splitIntoShards(cells, count, "group");
    const idsOf = (s: typeof cells) => s.map((c) => c.id).sort();
    const reversed = splitIntoShards([...cells].reverse(), count, "group");
    assert.deepEqual(shards.map(idsOf), reversed.map(idsOf), "independent of the matrix's list order");
    const ids = shards.flat().map((c) => c.id);
    assert.equal(ids.length, cells.length);
    assert.deepEqual(new Set(ids), new Set(cells.map((c) => c.id)));
    for (const g of groups) {
      const holders = shards.filter((s) => s.some((c) => groupKey(c) === g));
      assert.equal(holders.length, 1, `group ${g} is on one shard (N=${count})`);
    }
    // Greedy by cost: no shard exceeds the lightest by more than the costliest group.
    const loads = shards.map((s) => estimateCost(s));
    const largest = Math.max(...[...groups].map((g) => estimateCost(cells.filter((c) => groupKey(c) === g))));
    assert.ok(Math.max(...loads) - Math.min(...loads) <= largest + 1e-9, `N=${count}: loads ${loads}`);
  }
});

/** Cache entries of augmented views (split/augmentation/view), from `invbench cache`'s listing. */
async function augmentedEntries(dir: string): Promise<string[]> {
  const l = await listCache(dir);
  return l.entries.filter((e) => e.fields?.view !== null && e.fields?.view !== undefined).map((e) => e.key);
}

Deno.test("shard by group: each group's augmented features are extracted on one shard only", async () => {
  await using t = await tempDir("shard-group");
  const matrix = TWO_GROUPS;
  // The premise of the comparison: split by cell, both groups have cells on both shards.
  const byCell = splitIntoShards(
    expandMatrix(parseMatrix(await Deno.readTextFile(matrix), matrix).spec),
    2,
    "cell",
  );
  for (const shard of byCell) assert.deepEqual(new Set(shard.map(groupKey)).size, 2);
  const run = async (out: string, cache: string, ...extra: string[]) => {
    const r = await cli(["run", matrix, "--out", out, "--cache", cache, "--backend", "cpu", ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const m = /feature cache: (\d+) feature sets extracted, (\d+) hits/.exec(r.stdout);
    assert.ok(m, r.stdout);
    return Number(m[1]);
  };
  const whole = await run(`${t.dir}/whole`, `${t.dir}/cache-whole`);
  const extracted: Record<string, number[]> = { group: [], cell: [] };
  const entries: Record<string, string[]> = { group: [], cell: [] };
  for (const by of ["group", "cell"]) {
    for (const i of [0, 1]) {
      const cache = `${t.dir}/cache-${by}-${i}`;
      extracted[by].push(await run(`${t.dir}/${by}-${i}`, cache, "--shard", `${i}/2`, "--shard-by", by));
      entries[by].push(...await augmentedEntries(cache));
    }
  }
  const once = await augmentedEntries(`${t.dir}/cache-whole`);
  console.log(
    `feature sets extracted: one process ${whole}; --shard-by group ${extracted.group.join(" + ")}; ` +
      `--shard-by cell ${extracted.cell.join(" + ")} (augmented: one process ${once.length}, ` +
      `group ${entries.group.length}, cell ${entries.cell.length})`,
  );
  // group: every augmented feature set extracted exactly once across the shards.
  assert.deepEqual([...entries.group].sort(), [...once].sort());
  // cell: both shards hold cells of both groups, so augmented sets are extracted twice.
  assert.ok(entries.cell.length > once.length, `cell shards extracted ${entries.cell.length} augmented sets`);

  // The group shards merge into the one-process result at tolerance 0, recording how they split.
  const merged = await cli(["merge", `${t.dir}/group-0`, `${t.dir}/group-1`, "--out", `${t.dir}/merged`]);
  assert.equal(merged.code, 0, merged.stderr);
  const cmp = await cli([
    "compare",
    `${t.dir}/whole/result.json`,
    `${t.dir}/merged/result.json`,
    "--tolerance",
    "0",
    "--seed-sd",
    "0",
  ]);
  assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
  const doc = JSON.parse(await Deno.readTextFile(`${t.dir}/merged/result.json`));
  assert.deepEqual(
    doc.provenance.merged_from.map((s: { shard: unknown }) => s.shard),
    [0, 1].map((index) => ({ index, count: 2, by: "group", source: "flag" })),
  );
});

Deno.test("shard auto: Slurm array and Kubernetes Indexed Job variables", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.deepEqual(
    resolveShard("auto", {
      by: "group",
      env: env({ SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_MIN: "3", SLURM_ARRAY_TASK_COUNT: "3" }),
    }),
    { index: 1, count: 3, by: "group", source: "slurm" },
  );
  assert.deepEqual(
    resolveShard("auto", { by: "cell", shardCount: "5", env: env({ JOB_COMPLETION_INDEX: "4" }) }),
    { index: 4, count: 5, by: "cell", source: "kubernetes" },
  );
  assert.deepEqual(resolveShard("1/2", { by: "cell", env: env({}) }), {
    index: 1,
    count: 2,
    by: "cell",
    source: "flag",
  });
  assert.equal(resolveShard(undefined, { by: "cell", env: env({ SLURM_ARRAY_TASK_ID: "0" }) }), undefined);
  const refuses = (
    shard: string | undefined,
    vars: Record<string, string>,
    message: RegExp,
    count?: string,
  ) => assert.throws(() => resolveShard(shard, { by: "cell", shardCount: count, env: env(vars) }), message);
  refuses("auto", {}, /no scheduler shard found/);
  refuses("auto", { SLURM_ARRAY_TASK_ID: "0" }, /SLURM_ARRAY_TASK_COUNT is not/);
  refuses("auto", { SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "2" }, /not a non-negative integer/);
  refuses("auto", { SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_COUNT: "3" }, /outside 0…2/);
  refuses("auto", { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "3" }, /differs from/, "4");
  refuses("auto", { JOB_COMPLETION_INDEX: "0" }, /needs --shard-count/);
  refuses("auto", { JOB_COMPLETION_INDEX: "5" }, /not below --shard-count 5/, "5");
  refuses("0/2", {}, /only used with --shard auto/, "2");
});

Deno.test("shard auto: the CLI takes the shard from SLURM_ARRAY_TASK_ID and records its source", async () => {
  await using t = await tempDir("shard-auto");
  const r = await cli(
    ["run", fixture("tiny.yaml"), "--out", `${t.dir}/out`, "--cache", `${t.dir}/cache`, "--shard", "auto"],
    { env: { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "3", SLURM_ARRAY_TASK_MIN: "0" } },
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(await Deno.readTextFile(`${t.dir}/out/result.json`));
  assert.deepEqual(doc.provenance, {
    matrix_cells: 6,
    shard: { index: 1, count: 3, by: "cell", source: "slurm" },
  });
  const none = await cli(["run", fixture("tiny.yaml"), "--out", `${t.dir}/none`, "--shard", "auto"], {
    env: { SLURM_ARRAY_TASK_ID: "", JOB_COMPLETION_INDEX: "" },
  });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /no scheduler shard found/);
});

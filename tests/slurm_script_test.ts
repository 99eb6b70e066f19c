/**
 * The scripts `invbench slurm` writes (no cluster needed; tests/slurm_test.ts runs them on a real
 * one): the array and merge directives from the flags, a shard's command with `--shard auto`, the
 * per-shard cost estimates, rewriting identical scripts but refusing different ones, and
 * `--submit` without a Slurm client.
 */
import assert from "node:assert/strict";
import { cli, ROOT, tempDir } from "./fixtures/harness.ts";

const args = (out: string, ...extra: string[]) => [
  "slurm",
  "tests/fixtures/tiny.yaml",
  "--shards",
  "3",
  "--out",
  out,
  "--partition",
  "gpu-long",
  "--time",
  "02:00:00",
  "--cpus-per-task",
  "4",
  "--mem",
  "8G",
  "--local-key",
  ...extra,
];

Deno.test("slurm scripts: directives, the shard and merge commands, and cost estimates", async () => {
  await using t = await tempDir("slurm-script");
  const out = `${t.dir}/run`;
  const r = await cli(args(out));
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^shard 0: 2 cells in 1 feature group\(s\), estimated cost \S+ \(\d+\.\d% of the matrix\)$/m,
  );
  assert.match(
    r.stdout,
    /submit with: jid=\$\(sbatch --parsable \S+shards\.sbatch\) && sbatch --dependency=afterok:\$jid/,
  );
  const shards = await Deno.readTextFile(`${out}/slurm/shards.sbatch`);
  const merge = await Deno.readTextFile(`${out}/slurm/merge.sbatch`);
  for (const d of ["--partition=gpu-long", "--time=02:00:00", "--cpus-per-task=4", "--mem=8G"]) {
    assert.ok(shards.includes(`#SBATCH ${d}\n`), d);
    assert.ok(merge.includes(`#SBATCH ${d}\n`), d);
  }
  assert.match(shards, /^#SBATCH --array=0-2$/m);
  assert.match(shards, new RegExp(`^#SBATCH --output=${out}/logs/shard-%a\\.out$`, "m"));
  assert.match(shards, /^# {3}shard 2: 2 cells in 1 feature group\(s\), estimated cost/m);
  assert.ok(shards.includes(`cd ${ROOT}\n`));
  assert.ok(
    shards.includes(
      `run ${ROOT}/tests/fixtures/tiny.yaml --out ${out}/shard-"$SLURM_ARRAY_TASK_ID" --shard auto --shard-by cell --cache ${out}/cache --backend auto\n`,
    ),
    shards,
  );
  assert.ok(
    merge.includes(`merge ${out}/shard-0 ${out}/shard-1 ${out}/shard-2 --out ${out}/merged --local-key\n`),
  );

  // The same command again rewrites the same bytes; other options meet the scripts and are refused.
  assert.equal((await cli(args(out))).code, 0);
  const other = await cli(args(out, "--shard-by", "cell", "--backend", "cpu"));
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /shards\.sbatch exists with other content; use another --out directory/);
  assert.equal(await Deno.readTextFile(`${out}/slurm/shards.sbatch`), shards);
});

Deno.test("slurm scripts: --submit without sbatch exits 2 and says what is missing", async () => {
  await using t = await tempDir("slurm-nosbatch");
  const r = await cli(args(`${t.dir}/run`, "--submit"), { env: { PATH: "/nonexistent" } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /sbatch not found: --submit needs a Slurm client/);
});

Deno.test("slurm scripts: a malformed --time, --mem or --partition exits 2 before any script is written", async () => {
  await using t = await tempDir("slurm-directives");
  const cases: [string, string, RegExp][] = [
    [
      "--time",
      "2h",
      /--time "2h": expected a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS/,
    ],
    [
      "--mem",
      "lots",
      /--mem "lots": expected a Slurm memory size: an integer with an optional unit K, M, G or T/,
    ],
    [
      "--partition",
      "a b",
      /--partition "a b": expected Slurm partition names \(letters, digits, _ \. -\), comma-separated/,
    ],
  ];
  for (const [flag, value, message] of cases) {
    const out = `${t.dir}/run${flag}`;
    const r = await cli([...args(out), flag, value]);
    assert.equal(r.code, 2, `${flag} ${value}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(await Deno.stat(out).then(() => true, () => false), false, `${flag}: ${out} was written`);
  }
  // Every form sbatch documents is taken.
  for (
    const [i, time] of ["90", "45:00", "02:00:00", "1-12", "1-12:30", "1-12:30:00", "UNLIMITED"].entries()
  ) {
    const r = await cli([
      ...args(`${t.dir}/ok-${i}`),
      "--time",
      time,
      "--mem",
      "512m",
      "--partition",
      "gpu,cpu",
    ]);
    assert.equal(r.code, 0, `--time ${time}: ${r.stderr}`);
  }
});

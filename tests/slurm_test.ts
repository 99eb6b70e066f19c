/**
 * `invbench slurm --submit` on a REAL one-node Slurm cluster (Debian's slurm-wlm and munge, set up
 * by scripts/local_slurm.sh, which installs them when missing): the tiny matrix as a 3-task job
 * array plus a merge job that depends on it. One task fails the first time (its directory is
 * blocked), so the merge never runs; submitted again, the finished shards resume and the merge
 * runs. The merged, signed result must verify and compare equal at tolerance 0 to a one-process run. The test stops every daemon it started, also when
 * it fails; a cluster that cannot be set up fails the test (it is never skipped).
 */
import assert from "node:assert/strict";
import { generateKeys, writePrivateKey } from "../src/results/signing.ts";
import { cli, exists, fixture, ROOT, tempDir } from "./fixtures/harness.ts";

const SCRIPT = `${ROOT}/scripts/local_slurm.sh`;

async function sh(args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(args[0], { args: args.slice(1), env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** The pids `local_slurm.sh start` recorded as started by it. */
async function startedPids(state: string): Promise<number[]> {
  try {
    return (await Deno.readTextFile(`${state}/started`)).trim().split("\n").filter(Boolean).map((l) =>
      Number(l.split(" ")[1])
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

const alive = (pid: number) => {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
};

Deno.test("slurm: a 3-task job array and its merge job, resubmitted after a failed task, give the one-process result", async () => {
  await using t = await tempDir("slurm");
  const state = `${t.dir}/cluster`;
  const env = { SLURM_CONF: `${state}/slurm.conf` };
  let pids: number[] = [];
  try {
    const up = await sh(["bash", SCRIPT, "start", state]);
    pids = await startedPids(state);
    assert.equal(up.code, 0, `could not set up the local Slurm cluster:\n${up.stderr}`);
    assert.ok(pids.length >= 2, `slurmctld and slurmd were started: ${pids}`);

    const key = `${t.dir}/key.jwk`;
    await writePrivateKey(key, await generateKeys());
    const one = await cli([
      "run",
      fixture("tiny.yaml"),
      "--out",
      `${t.dir}/one`,
      "--cache",
      `${t.dir}/cache-one`,
      "--backend",
      "cpu",
    ]);
    assert.equal(one.code, 0, one.stderr);

    const out = `${t.dir}/array`;
    const submit = async () => {
      const r = await cli([
        "slurm",
        fixture("tiny.yaml"),
        "--shards",
        "3",
        "--out",
        out,
        "--backend",
        "cpu",
        "--cpus-per-task",
        "1",
        "--key",
        key,
        "--submit",
      ], { env });
      assert.equal(r.code, 0, r.stderr);
      const m = /job array (\d+) and the merge as job (\d+)/.exec(r.stdout);
      assert.ok(m, r.stdout);
      return { array: m[1], merge: m[2] };
    };
    /** squeue's lines "<id> <state> <reason>" for the jobs (array tasks as <array>_<i>). */
    const queued = async (...ids: string[]) => {
      const q = await sh(["squeue", "-h", "-j", ids.join(","), "-o", "%i %T %r"], env);
      assert.equal(q.code, 0, q.stderr);
      return q.stdout.trim();
    };
    // One second between polls; a guard of 15 minutes in all so that a stuck cluster fails the
    // test with the logs instead of hanging the suite (not a timing assertion: jobs take seconds).
    let polls = 0;
    const pause = async () => {
      assert.ok(++polls < 900, `the jobs did not finish:\n${await logs()}`);
      await new Promise((r) => setTimeout(r, 1000));
    };
    const log = (name: string) => Deno.readTextFile(`${out}/logs/${name}.out`).catch(() => "(no log)");
    const logs = async () =>
      (await Promise.all(
        ["shard-0", "shard-1", "shard-2", "merge"].map(async (n) => `--- ${n}\n${await log(n)}`),
      ))
        .join("\n");

    // First submission: shard 1's directory is blocked by a file, so its task fails; the others
    // finish, and the merge waits on a dependency that can no longer be satisfied.
    await Deno.mkdir(out, { recursive: true });
    await Deno.writeTextFile(`${out}/shard-1`, "in the way\n");
    const first = await submit();
    while (await queued(first.array)) await pause();
    for (;;) {
      const q = await queued(first.merge);
      if (/DependencyNeverSatisfied/.test(q)) break;
      assert.ok(q, `the merge ran although an array task failed:\n${await logs()}`);
      await pause();
    }
    assert.equal((await sh(["scancel", first.merge], env)).code, 0);
    assert.ok(await exists(`${out}/shard-0/result.json`), await logs());
    assert.ok(await exists(`${out}/shard-2/result.json`), await logs());
    assert.equal(await exists(`${out}/merged`), false);

    // Submitting again after the blocker is gone: shards 0 and 2 resume every cell, 1 computes its own.
    await Deno.remove(`${out}/shard-1`);
    const { array, merge } = await submit();
    while (await queued(array, merge)) {
      assert.doesNotMatch(await queued(merge), /DependencyNeverSatisfied/, await logs());
      await pause();
    }
    const script = await Deno.readTextFile(`${out}/slurm/merge.sbatch`);
    assert.match(script, /merge \S+\/shard-0 \S+\/shard-1 \S+\/shard-2 --out \S+\/merged --key /);
    const info = await sh(["scontrol", "show", "job", merge], env);
    assert.match(info.stdout, /JobState=COMPLETED/, `${info.stdout}\n${await logs()}`);
    assert.match(await log("shard-0"), /2 cells \(0 computed, 2 resumed\)/);
    assert.match(await log("shard-1"), /2 cells \(2 computed, 0 resumed\)/);
    assert.ok(await exists(`${out}/merged/result.json`), await logs());

    const verify = await cli(["verify", `${out}/merged/result.json`, "--keys", `${out}/merged/signer.jwks`]);
    assert.equal(verify.code, 0, verify.stderr);
    const cmp = await cli([
      "compare",
      `${t.dir}/one/result.json`,
      `${out}/merged/result.json`,
      "--tolerance",
      "0",
      "--seed-sd",
      "0",
    ]);
    assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
    assert.match(cmp.stdout, /compared 6 shared cells/);
    const doc = JSON.parse(await Deno.readTextFile(`${out}/merged/result.json`));
    assert.deepEqual(
      doc.provenance.merged_from.map((s: { shard: unknown }) => s.shard),
      [0, 1, 2].map((index) => ({ index, count: 3, by: "cell", source: "slurm" })),
    );
  } finally {
    const down = await sh(["bash", SCRIPT, "stop", state]);
    assert.equal(down.code, 0, down.stderr);
    const left = pids.filter(alive);
    assert.deepEqual(left, [], `daemons still running after stop: ${left}`);
  }
});

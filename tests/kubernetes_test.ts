/**
 * `invbench k8s` writes manifests that are valid batch/v1 Jobs: checked with the validator that
 * the npm package `kubernetes-models` (MIT) compiles from the Kubernetes API's OpenAPI schema for
 * io.k8s.api.batch.v1.Job (no cluster needed). The shard Job is Indexed with one completion per
 * shard, and each pod's command resolves its shard from JOB_COMPLETION_INDEX with --shard-count.
 */
import assert from "node:assert/strict";
import { validate as validateJob } from "kubernetes-models/_schemas/IoK8sApiBatchV1Job";
import { parse } from "yaml";
import { cli, fixture, tempDir } from "./fixtures/harness.ts";

/** The compiled (ajv) validator, which reports its errors on itself as ajv validators do. */
const validate = validateJob as ((data: unknown) => boolean) & {
  errors?: { instancePath: string; keyword: string; params: unknown }[] | null;
};

const valid = (job: unknown): string[] =>
  validate(job)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);

Deno.test("k8s: the schema check is real: a broken Job fails it", () => {
  assert.deepEqual(valid({ apiVersion: "batch/v1", kind: "Job", spec: { template: {} } }), []);
  const problems = valid({
    apiVersion: "batch/v1",
    kind: "Job",
    spec: { completions: "3", template: { spec: { containers: [{ image: "x" }] } } },
  });
  assert.ok(problems.some((p) => p.startsWith("/spec/completions type")), problems.join("\n"));
  assert.ok(problems.some((p) => p.includes('"missingProperty":"name"')), problems.join("\n"));
  assert.notDeepEqual(valid({ apiVersion: "batch/v2", kind: "Job", spec: { template: {} } }), []);
});

Deno.test("k8s: an Indexed Job of the shards and a merge Job, both valid batch/v1 Jobs", async () => {
  await using t = await tempDir("k8s");
  const r = await cli([
    "k8s",
    "tests/fixtures/tiny.yaml",
    "--shards",
    "3",
    "--image",
    "registry.example/invbench:1",
    "--out",
    t.dir,
    "--cpu",
    "2",
    "--memory",
    "4Gi",
    "--local-key",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kubectl wait --for=condition=complete .*job\/invbench-tiny-test-shards/);
  const shards = parse(await Deno.readTextFile(`${t.dir}/shards.job.yaml`));
  const merge = parse(await Deno.readTextFile(`${t.dir}/merge.job.yaml`));
  assert.deepEqual(valid(shards), []);
  assert.deepEqual(valid(merge), []);

  assert.equal(shards.spec.completionMode, "Indexed");
  assert.equal(shards.spec.completions, 3);
  const pod = shards.spec.template.spec.containers[0];
  assert.deepEqual(pod.resources, { requests: { cpu: "2", memory: "4Gi" } });
  assert.equal(pod.command[0], "/bin/sh");
  assert.match(
    pod.command[2],
    /run tests\/fixtures\/tiny\.yaml --out \/data\/shard-"\$JOB_COMPLETION_INDEX" --shard auto --shard-by cell --cache \/data\/cache .* --shard-count 3$/,
  );
  const mergeCommand = merge.spec.template.spec.containers[0].command.join(" ");
  assert.match(
    mergeCommand,
    /merge \/data\/shard-0 \/data\/shard-1 \/data\/shard-2 --out \/data\/merged --local-key$/,
  );
  for (const job of [shards, merge]) {
    assert.deepEqual(job.spec.template.spec.volumes, [{
      name: "data",
      persistentVolumeClaim: { claimName: "invbench-data" },
    }]);
  }

  // What a pod runs resolves its shard the way the Job sets it (JOB_COMPLETION_INDEX).
  const pod2 = await cli([
    "run",
    fixture("tiny.yaml"),
    "--out",
    `${t.dir}/pod-2`,
    "--cache",
    `${t.dir}/cache`,
    "--shard",
    "auto",
    "--shard-count",
    "3",
  ], {
    env: { JOB_COMPLETION_INDEX: "2", SLURM_ARRAY_TASK_ID: "" },
  });
  assert.equal(pod2.code, 0, pod2.stderr);
  const doc = JSON.parse(await Deno.readTextFile(`${t.dir}/pod-2/result.json`));
  assert.deepEqual(doc.provenance.shard, { index: 2, count: 3, by: "cell", source: "kubernetes" });
});

Deno.test("k8s: a matrix outside the repository, or more group shards than groups, exit 2", async () => {
  await using t = await tempDir("k8s-refused");
  const outside = `${t.dir}/tiny.yaml`;
  await Deno.writeTextFile(
    outside,
    (await Deno.readTextFile(fixture("tiny.yaml"))).replaceAll(
      "../../fixtures/",
      `${fixture("../../fixtures/")}`,
    ),
  );
  const r = await cli(["k8s", outside, "--shards", "2", "--image", "x", "--out", `${t.dir}/m`]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /outside the repository/);
  const g = await cli([
    "k8s",
    "tests/fixtures/tiny.yaml",
    "--shards",
    "2",
    "--shard-by",
    "group",
    "--image",
    "x",
    "--out",
    `${t.dir}/g`,
  ]);
  assert.equal(g.code, 2, g.stderr);
  assert.match(
    g.stderr,
    /shard 1 would hold no cell \(the matrix has 6 cells in 1 feature group\(s\)\); use --shards ≤ 1 or --shard-by cell/,
  );
});

Deno.test("k8s: a malformed --cpu, --memory, --pvc, --image or --workdir exits 2 before any manifest is written", async () => {
  await using t = await tempDir("k8s-values");
  const cases: [string, string, RegExp][] = [
    ["--cpu", "two", /--cpu "two": expected a Kubernetes quantity/],
    ["--memory", "lots", /--memory "lots": expected a Kubernetes quantity/],
    ["--pvc", "Bad_Name", /--pvc "Bad_Name": expected a Kubernetes object name/],
    ["--image", "a b", /--image "a b": expected a container image reference without whitespace/],
    ["--workdir", "invbench", /--workdir invbench: expected an absolute path in the pods/],
  ];
  for (const [flag, value, message] of cases) {
    const out = `${t.dir}/m${flag}`;
    const r = await cli([
      "k8s",
      "tests/fixtures/tiny.yaml",
      "--shards",
      "2",
      "--image",
      "x",
      "--out",
      out,
      flag,
      value,
    ]);
    assert.equal(r.code, 2, `${flag} ${value}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(await Deno.stat(out).then(() => true, () => false), false, `${flag}: ${out} was written`);
  }
  const ok = await cli([
    "k8s",
    "tests/fixtures/tiny.yaml",
    "--shards",
    "2",
    "--image",
    "registry.example.org:5000/invbench:1.2",
    "--out",
    `${t.dir}/ok`,
    "--cpu",
    "1500m",
    "--memory",
    "8Gi",
    "--pvc",
    "invbench-data.v2",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
});

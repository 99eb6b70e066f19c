/**
 * The committed reference result of the corruptions matrix (results/mnist-corruptions/<version>/):
 * it verifies with the trusted keys and its own signer, ran today's matrix from a clean tree, runs
 * every corruption family (the four at severity 3 and all ten in the random_choice mix), and three
 * of its cells (EC on the mix and on elastic_transform, SimCLR on the mix) re-run on the CPU
 * backend to exactly the committed numbers: the corruptions are functions of the image and its
 * counter-based stream alone (on the reference's numeric platform; ignored, saying why, on another).
 */
import assert from "node:assert/strict";
import { AUGMENTATIONS } from "../src/augment/spec.ts";
import { readResult } from "../src/results/schema.ts";
import { ROOT } from "./fixtures/harness.ts";
import { platformCaveat, rerunExactly, verifiedReference } from "./fixtures/rerun.ts";

const matrix = `${ROOT}/benchmarks/mnist_corruptions.yaml`;
const version = /^version:\s*(\S+)/m.exec(await Deno.readTextFile(matrix))![1];
const dir = `${ROOT}/results/mnist-corruptions/${version}`;
Deno.test("reference corruptions: the committed result verifies, ran today's matrix and every family", async () => {
  const result = await verifiedReference(dir, matrix);
  const kinds = new Set<string>();
  const visit = (a: Record<string, unknown>) => {
    kinds.add(a.kind as string);
    for (const list of [a.steps, a.ops]) if (Array.isArray(list)) list.forEach(visit);
  };
  (result.matrix.spec as { augmentations: Record<string, unknown>[] }).augmentations.forEach(visit);
  const corruptions = AUGMENTATIONS.entries.filter((k) => "severity" in k.fields).map((k) => k.kind);
  for (const kind of corruptions) assert.ok(kinds.has(kind), `${kind} is run`);
  assert.ok(kinds.has("random_choice"));
  const ran = new Set(result.rows.map((r) => r.augmentation));
  assert.deepEqual([...ran].sort(), ["defocus-blur", "elastic", "impulse-noise", "mix", "pixelate"]);
});

// Read at load only to decide where the exact re-run is tested; the test itself verifies it.
const unverified = readResult(JSON.parse(await Deno.readTextFile(`${dir}/result.json`)));

Deno.test({
  name: "reference corruptions: three cells re-run on the cpu backend to exactly the committed numbers",
  ignore: await platformCaveat(unverified) !== null,
}, async () => {
  const reference = await verifiedReference(dir, matrix);
  const pick = (augmentation: string, method: string) =>
    reference.rows.find((r) => r.augmentation === augmentation && r.method === method)!.cell;
  const cells = [pick("mix", "ec"), pick("elastic", "ec"), pick("mix", "simclr")];
  await rerunExactly(reference, cells);
});

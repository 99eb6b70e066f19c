/**
 * `invbench new-method NAME`: writes a commented template loss (NAME.ts) and a tiny matrix that
 * runs it next to the built-in MaWa (NAME.yaml, a few seconds on a laptop), into a directory.
 * Nothing is overwritten: when either file exists, nothing is written.
 */
import { join, relative, resolve } from "node:path";
import { InputError } from "../../errors.ts";
import { PROJECT_ROOT } from "../../run/harness.ts";
import { LOSSES } from "../losses/index.ts";
import { loss as MAWA } from "../losses/mawa.ts";

/** The ids of the template matrix's other methods (EC and the built-in MaWa). */
const TEMPLATE_METHOD_IDS = ["ec", MAWA.name];

/** Method names: they become file names and ids in the matrix. */
export const METHOD_NAME = /^[a-z][a-z0-9_-]{0,47}$/;

export function templateLoss(name: string, modPath: string): string {
  return `/**
 * ${name}: an invariance loss for the adapter E (docs/methods.md). Edit \`loss\`; keep it a pure
 * function of \`batch\` and \`params\` built from \`ops\` only: it runs in a sandbox with no file,
 * network or environment access, and is traced once into an op graph that invbench runs with
 * autograd. Run it with: npx deno task invbench run ${name}.yaml --out runs/${name}
 */
import type { LossDefinition } from "${modPath}";

const loss: LossDefinition = {
  name: "${name}",
  summary: "anchored MSE (MaWa) scaled by a weight: replace with your loss",
  // Parameters the matrix may set (methods[].params); checked against these bounds.
  params: {
    weight: { description: "scale of the loss", default: 1, min: 0, exclusiveMin: true },
  },
  // Whether the loss reads batch.anchors (the clean features F(x), repeated for every view).
  usesAnchors: true,
  // Whether the loss needs E's output dimension d' to equal d (anchored losses do).
  sameDim: true,
  // The fewest views per input (s + 1, the clean one included) the loss accepts.
  minViews: 1,
  // Whether it draws random numbers (ops.randomNormal / ops.randomPermutation).
  random: false,
  loss(batch, params, ops) {
    // batch.y: E's outputs [(s+1)N, d'], rows [kN, (k+1)N) are view k (k = 0 is the clean input).
    // batch.anchors: F(clean) repeated s+1 times, [(s+1)N, d]; batch.views = s + 1.
    const perRow = ops.sum(ops.square(ops.sub(batch.y, batch.anchors)), 1);
    return ops.mul(ops.mean(perRow), params.weight!);
  },
};

export default loss;
`;
}

export function templateMatrix(name: string, onnxPath: string): string {
  return `# A tiny matrix for trying ${name}.ts (a few seconds): 1000 MNIST training images through the
# fixture CNN, rotation, EC, the built-in MaWa and ${name}, one seed. To compare on the default
# benchmark, add the ${name} method line to a copy of benchmarks/default.yaml (docs/methods.md).
schema: invbench.matrix/v1
name: ${name}-tiny
version: 0.0.1
datasets:
  - id: mnist
    source: mnist
    train: { limit: 1000, stratified_seed: 0 }
    test: { limit: 300, stratified_seed: 0 }
backbones:
  - id: fixture-cnn
    onnx: ${onnxPath}
    output: features
    input: { layout: NCHW, size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] }
augmentations:
  - { id: rotation, kind: rotation, degrees: [-180, 180] }
training: { hidden: 128, epochs: 3, view_pool: 3 }
methods:
  - { id: ${TEMPLATE_METHOD_IDS[0]}, kind: none }
  - { id: ${TEMPLATE_METHOD_IDS[1]}, kind: adapter, loss: ${MAWA.name} }
  - { id: ${name}, kind: adapter, loss: ./${name}.ts, params: { weight: 1 } }
classifiers:
  - { id: linear, kind: linear, epochs: 30 }
seeds: [0]
evaluation: { aug_draws: 2, structure_points: 100, collision_points: 100 }
`;
}

/** Writes DIR/NAME.ts and DIR/NAME.yaml; returns their paths. */
export async function newMethod(name: string, dir: string): Promise<{ loss: string; matrix: string }> {
  if (!METHOD_NAME.test(name)) {
    throw new InputError(
      `method name "${name}": expected lowercase letters, digits, '_' or '-', starting with a letter`,
    );
  }
  const taken = [...LOSSES.names, ...TEMPLATE_METHOD_IDS];
  if (taken.includes(name)) {
    throw new InputError(
      `method name "${name}": already a built-in loss or a method id of the template's matrix ` +
        `(${[...new Set(taken)].join(", ")}); choose another`,
    );
  }
  const loss = join(dir, `${name}.ts`), matrix = join(dir, `${name}.yaml`);
  for (const path of [loss, matrix]) {
    const there = await Deno.lstat(path).then(() => true, () => false);
    if (there) {
      throw new Deno.errors.AlreadyExists(`${path} already exists; new-method never overwrites a file`);
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  const rel = (target: string) => {
    const r = relative(absolute(dir), join(PROJECT_ROOT, target));
    return r.startsWith(".") ? r : `./${r}`;
  };
  await Deno.writeTextFile(loss, templateLoss(name, rel("mod.ts")), { createNew: true });
  await Deno.writeTextFile(matrix, templateMatrix(name, rel("fixtures/backbones/mnist.onnx")), {
    createNew: true,
  });
  return { loss, matrix };
}

function absolute(dir: string): string {
  return resolve(dir);
}

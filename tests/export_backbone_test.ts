/**
 * tools/export_backbone.py with Debian's python3-torch: a torchvision architecture (ResNet-18, its
 * initial weights, seeded; nothing downloaded) and a user's module (tests/fixtures/user_backbone.py
 * with saved weights, exported with external data) are exported, checked by the helper on real
 * MNIST images, and run through a matrix built from the entries the helper prints; the features
 * that run extracted (read back from its feature cache) equal PyTorch's within 1e-4.
 *
 * Needs a Python with torch, torchvision and onnx (Debian: python3-torch, python3-torchvision,
 * python3-onnx; .ci/run installs them and sets INVBENCH_REQUIRE_PYTHON=1, which turns their absence
 * into a failure instead of an ignored test).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { readBatch } from "../src/augment/augment.ts";
import { OnnxBackbone } from "../src/backbone/onnx_backbone.ts";
import { extractFeatures } from "../src/backbone/extract.ts";
import { FeatureCache } from "../src/cache/feature_cache.ts";
import { loadDatasetSplits } from "../src/data/registry.ts";
import { encodeNpy, readNpyMatrix } from "../src/data/npy.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { readResult } from "../src/results/schema.ts";
import { sha256Hex } from "../src/util/hash.ts";
import { pythonWith } from "../src/util/python.ts";
import { fixture, oneCell, ROOT, tempDir } from "./fixtures/harness.ts";

const TOLERANCE = 1e-4;
const PYTHON = await pythonWith("torch, torchvision, onnx");
const REQUIRED = Deno.env.get("INVBENCH_REQUIRE_PYTHON") === "1";
const MISSING = "no Python with torch, torchvision and onnx (Debian: apt-get install python3-torch " +
  "python3-torchvision python3-onnx; INVBENCH_PYTHON names another interpreter)";

const DATASET = { id: "mnist", source: "mnist", train: { limit: 200 }, test: { limit: 64 } };

async function python(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // No __pycache__ beside the fixture module: the clone must stay clean.
  const env = { PYTHONDONTWRITEBYTECODE: "1" };
  const out = await new Deno.Command(PYTHON!, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The max abs diff line the helper prints (from `invbench check-backbone`). */
function maxAbsDiff(stderr: string): number {
  const m = stderr.match(/max abs diff ([0-9.e+-]+) over/);
  assert.ok(m, `no max abs diff in:\n${stderr}`);
  return Number(m[1]);
}

Deno.test({
  name: "export: python3-torch is there when CI requires it",
  ignore: !REQUIRED,
  fn: () => assert.ok(PYTHON, MISSING),
});

Deno.test({
  name:
    "export: a torchvision ResNet-18 and a user module export, run through a matrix, and match PyTorch within 1e-4",
  ignore: !PYTHON,
  async fn() {
    await using tmp = await tempDir("export-backbone");
    const dir = tmp.dir;
    const test = (await loadDatasetSplits(DATASET)).test as Dataset;
    const all = Int32Array.from({ length: test.n }, (_, i) => i);
    const pixels = Float32Array.from((await readBatch(test, all)).images.data, (v) => v / 255);
    await Deno.writeFile(
      `${dir}/mnist.npy`,
      encodeNpy("<f4", [test.n, 28 * 28], new Uint8Array(pixels.buffer)),
    );
    const tool = `${ROOT}/tools/export_backbone.py`;

    /** Exports `id`.onnx with the helper, checked on the MNIST images (kept in `id`_check/). */
    const exportChecked = async (id: string, args: string[]) => {
      const out = [`--out`, `${id}.onnx`, "--check-with", "mnist.npy", "--keep-check", `${id}_check`];
      const r = await python([tool, ...args, "--id", id, ...out], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(maxAbsDiff(r.stderr) <= TOLERANCE, r.stderr);
      return r;
    };
    const resnet = await exportChecked("resnet18", ["--torchvision", "resnet18", "--size", "28", "28"]);

    const weights = await python([
      "-c",
      `import sys, torch; sys.path.insert(0, ${JSON.stringify(`${ROOT}/tests/fixtures`)}); ` +
      "from user_backbone import SmallNet; torch.manual_seed(7); m = SmallNet(); " +
      "[torch.nn.init.normal_(b.running_mean) for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]; " +
      "torch.save(m.state_dict(), 'small.pt')",
    ], dir);
    assert.equal(weights.code, 0, weights.stderr);
    const user = await exportChecked("user", [
      "--module",
      `${fixture("user_backbone.py")}:SmallNet`,
      "--weights",
      "small.pt",
      ...["--size", "28", "28", "--channels", "1", "--mean", "0.1307", "--std", "0.3081"],
      "--external-data",
    ]);
    assert.ok((await Deno.stat(`${dir}/user.onnx.data`)).size > 0, "weights in user.onnx.data");

    // Refuses to overwrite what it wrote.
    const again = await python([tool, "--torchvision", "resnet18", "--out", "resnet18.onnx"], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists; nothing is overwritten/);

    // The matrix is built from the entries the helper printed.
    const matrix = [
      "schema: invbench.matrix/v1",
      "name: export-test",
      "version: 0.0.1",
      "datasets:",
      `  - ${JSON.stringify(DATASET)}`,
      "backbones:",
      resnet.stdout.trimEnd(),
      user.stdout.trimEnd(),
      "augmentations: [{ id: rot, kind: rotation }]",
      "methods: [{ id: ec, kind: none }]",
      "classifiers: [{ id: linear, kind: linear, epochs: 5 }]",
      "seeds: [0]",
      "evaluation: { aug_draws: 1, structure_points: 50, collision_points: 50 }",
      "",
    ].join("\n");
    await Deno.writeTextFile(`${dir}/matrix.yaml`, matrix);
    const run = await oneCell(`${dir}/matrix.yaml`, `${dir}/out`, dir); // EC, seed 0: the whole matrix
    assert.equal(run.code, 0, run.stderr);
    const doc = readResult(JSON.parse(await Deno.readTextFile(`${dir}/out/result.json`)));
    assert.deepEqual(doc.rows.map((r) => [r.backbone, r.status]), [["resnet18", "ok"], ["user", "ok"]]);
    assert.deepEqual(doc.inputs.backbones.user.external_data?.map((f) => f.sha256), [
      sha256Hex(await Deno.readFile(`${dir}/user.onnx.data`)),
    ]);

    // The clean test features the run extracted (a cache hit proves they are the run's) vs PyTorch's.
    const entries =
      (parse(matrix) as { backbones: { id: string; onnx: string; output: string; input: never }[] })
        .backbones;
    for (const e of entries) {
      const cache = new FeatureCache({ dir: `${dir}/cache` });
      const model = await OnnxBackbone.load({
        id: e.id,
        onnx: `${dir}/${e.onnx}`,
        output: e.output,
        input: e.input,
      });
      try {
        const got = await extractFeatures({ backbone: model, dataset: test, cache });
        assert.equal(cache.stats.hits, 1, `${e.id}: the run's features, from its cache`);
        const want = readNpyMatrix(`${dir}/${e.id}_check/features.npy`);
        assert.deepEqual([got.rows, got.cols], [want.rows, want.cols]);
        let max = 0;
        for (let i = 0; i < want.data.length; i++) max = Math.max(max, Math.abs(got.data[i] - want.data[i]));
        console.log(
          `${e.id}: max |invbench − PyTorch| = ${max.toExponential(3)} over ${want.rows}×${want.cols}`,
        );
        assert.ok(max <= TOLERANCE, `${e.id}: ${max}`);
      } finally {
        await model.close();
      }
    }
  },
});

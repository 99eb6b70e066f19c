/**
 * `invbench check-backbone`: an entry's features on sample images against reference features,
 * through invbench's preprocessing (grayscale replicated, mean/std) and onnxruntime. The
 * reference here is computed in float64 from the model's known weights; exit 0 within the
 * tolerance, 4 beyond it, 2 on input that does not fit the entry.
 */
import assert from "node:assert/strict";
import { linearBackboneModel } from "../src/backbone/onnx_graph.ts";
import { encodeNpy } from "../src/data/npy.ts";
import { uniforms } from "./helpers.ts";
import { cli, tempDir } from "./fixtures/harness.ts";

const H = 6, W = 5, C = 3, D = 4, N = 7;
const MEAN = [0.4, 0.5, 0.6], STD = [0.2, 0.25, 0.3];
const weight = uniforms("check W", D * C * H * W), bias = uniforms("check b", D);
const gray = uniforms("check images", N * H * W, 0, 1);

/** The model's features of grayscale images replicated to C channels, in float64. */
function reference(): Float32Array {
  const out = new Float32Array(N * D);
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      let s = bias[d];
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < H * W; p++) {
          s += weight[d * C * H * W + c * H * W + p] * (gray[n * H * W + p] - MEAN[c]) / STD[c];
        }
      }
      out[n * D + d] = s;
    }
  }
  return out;
}

const npy = (shape: number[], data: Float32Array) => encodeNpy("<f4", shape, new Uint8Array(data.buffer));

Deno.test("check-backbone: agrees within the tolerance, exits 4 beyond it and 2 on images of another shape", async () => {
  await using tmp = await tempDir("check-backbone");
  await Deno.writeFile(
    `${tmp.dir}/m.onnx`,
    linearBackboneModel({ layout: "NCHW", channels: C, height: H, width: W, weight, bias }),
  );
  await Deno.writeFile(`${tmp.dir}/images.npy`, npy([N, H * W], gray));
  const want = reference();
  await Deno.writeFile(`${tmp.dir}/features.npy`, npy([N, D], want));
  const entry = JSON.stringify({
    id: "m",
    onnx: `${tmp.dir}/m.onnx`,
    output: "features",
    input: { layout: "NCHW", size: [H, W], channels: C, mean: MEAN, std: STD },
  });
  const args = ["check-backbone", "--backbone", entry, "--images", `${tmp.dir}/images.npy`];
  const ok = await cli([...args, "--features", `${tmp.dir}/features.npy`]);
  assert.equal(ok.code, 0, ok.stderr);
  const diff = Number(ok.stdout.match(/max abs diff ([0-9.e+-]+) over 7×4 features/)?.[1]);
  assert.ok(diff <= 1e-4, ok.stdout);

  const off = want.map((v, i) => i === 5 ? v + 1e-3 : v);
  await Deno.writeFile(`${tmp.dir}/off.npy`, npy([N, D], off));
  const differ = await cli([...args, "--features", `${tmp.dir}/off.npy`]);
  assert.equal(differ.code, 4, differ.stderr);
  assert.match(differ.stderr, /max abs diff (9\.9\d*e-4|1\.0\d*e-3) over 7×4 features/);

  await Deno.writeFile(`${tmp.dir}/wide.npy`, npy([N, 2 * H * W], new Float32Array(2 * N * H * W)));
  const bad = await cli([
    "check-backbone",
    "--backbone",
    entry,
    "--images",
    `${tmp.dir}/wide.npy`,
    "--features",
    `${tmp.dir}/features.npy`,
  ]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /rows of 60 values; the entry's input needs 3·6·5 = 90/);
});

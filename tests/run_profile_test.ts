/** `benchmarks/run_profile.ts`: how a run's profiled time is split into GEMM, backbone, idle and JS. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type CpuProfile, splitProfiles } from "../benchmarks/run_profile.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A profile whose frames sit at `url`s, and samples as [node id, µs before the next] pairs. */
function profile(
  frames: { id: number; name: string; url?: string; children?: number[] }[],
  samples: [number, number][],
): CpuProfile {
  return {
    nodes: frames.map((f) => ({
      id: f.id,
      callFrame: { functionName: f.name, url: f.url ?? "", lineNumber: 0 },
      children: f.children,
    })),
    samples: [...samples.map(([id]) => id), 1],
    timeDeltas: [0, ...samples.map(([, us]) => us)],
  };
}

Deno.test("run profile: self time is split into GEMM under ort_gemm.ts, onnxruntime-node's sessions, idle and JS", () => {
  const p = profile([
    { id: 1, name: "(root)", children: [2, 4, 6, 7, 8] },
    { id: 2, name: "ortGemm", url: "file:///p/src/tensor/backends/ort_gemm.ts", children: [3] },
    { id: 3, name: "op_ffi_call_ptr" },
    { id: 4, name: "otherForeignCall", url: "file:///p/src/x.ts", children: [5] },
    { id: 5, name: "op_ffi_call_ptr" },
    { id: 6, name: "run", url: "file:///p/node_modules/onnxruntime-node/dist/backend.js" },
    { id: 7, name: "(idle)" },
    { id: 8, name: "relu", url: "file:///p/src/tensor/backends/cpu_fused.ts" },
  ], [[3, 3e6], [5, 1e6], [6, 2e6], [7, 4e6], [8, 5e5], [3, 1e6]]);
  const { seconds, jsFunctions } = splitProfiles([p, p]);
  assert.deepEqual(seconds, { gemm: 8, backbone: 4, idle: 8, js: 3 });
  // A foreign call outside the GEMM is JS time, named by its own frame.
  assert.equal(jsFunctions.get("op_ffi_call_ptr :1"), 2);
  assert.equal(jsFunctions.get("relu cpu_fused.ts:1"), 1);
  assert.deepEqual([...jsFunctions.keys()].sort(), ["op_ffi_call_ptr :1", "relu cpu_fused.ts:1"]);
});

Deno.test("run profile: a real --cpu-prof of ORT GEMMs and a backbone session finds both shares", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-run-profile-test-" });
  try {
    const script = `${dir}/work.ts`;
    await Deno.writeTextFile(
      script,
      `import { OnnxBackbone } from "${ROOT}src/backbone/onnx_backbone.ts";
import { ortGemm } from "${ROOT}src/tensor/backends/ort_gemm.ts";
const a = new Float32Array(384 * 384).fill(0.5), out = new Float32Array(384 * 384);
for (let i = 0; i < 150; i++) ortGemm(a, [384, 384], a, [384, 384], false, false, out);
const input = { layout: "NCHW", size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] };
const backbone = await OnnxBackbone.load({ onnx: "${ROOT}fixtures/backbones/mnist.onnx", input });
await backbone.run({ data: new Uint8Array(2000 * 784), shape: [2000, 1, 28, 28] });
await backbone.close();
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `--config=${ROOT}deno.json`, "--cpu-prof", `--cpu-prof-dir=${dir}/p`, script],
      stderr: "piped",
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    const profiles: CpuProfile[] = [];
    for await (const e of Deno.readDir(`${dir}/p`)) {
      profiles.push(JSON.parse(await Deno.readTextFile(`${dir}/p/${e.name}`)));
    }
    const { seconds, jsFunctions } = splitProfiles(profiles);
    assert(seconds.gemm > 0, `no GEMM time in ${JSON.stringify(seconds)}`);
    assert(seconds.backbone > 0, `no backbone time in ${JSON.stringify(seconds)}`);
    for (const name of jsFunctions.keys()) assert(!name.includes("backend.js"), `${name} counted as JS`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

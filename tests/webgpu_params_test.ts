/**
 * The WebGPU kernels' uniforms are named: each kernel entry lists its `Params` fields, and the WGSL
 * `struct Params` is parsed and checked against it when a pipeline is built. A field moved in the
 * WGSL (or in the entry) fails naming the kernel and the field, instead of feeding it garbage.
 */
import assert from "node:assert/strict";
import { createWebGpuBackend } from "../src/tensor/backends/webgpu/backend.ts";
import { kernelSources } from "../src/tensor/backends/webgpu/kernel_sources.ts";
import { checkParams, KERNELS, parseParamsStruct } from "../src/tensor/backends/webgpu/kernels.ts";
import { webgpuAdapter } from "./helpers.ts";

const SOURCES = await kernelSources();

/** matmul.wgsl with its `k_start` and `k_end` fields swapped. */
function reorderedMatmul(): string {
  const text = SOURCES.get("matmul.wgsl")!;
  const swapped = text.replace(/(\n\s*)k_start: u32,(\n\s*)k_end: u32,/, "$1k_end: u32,$2k_start: u32,");
  assert.notEqual(swapped, text, "the fields were found and swapped");
  return swapped;
}

Deno.test("webgpu params: every kernel's WGSL struct Params is its entry's params, in order", () => {
  for (const [name, def] of Object.entries(KERNELS)) {
    const fields = parseParamsStruct(SOURCES.get(def.file)!);
    assert.deepEqual(fields, def.params.map(([n, t]) => [n, t]), name);
    checkParams(name, def, SOURCES.get(def.file)!);
  }
});

Deno.test("webgpu params: a reordered WGSL field fails naming the kernel and the field", () => {
  assert.throws(
    () => checkParams("matmul", KERNELS.matmul, reorderedMatmul()),
    (e: Error) =>
      /webgpu kernel matmul \(matmul\.wgsl\): struct Params field 3 is "k_end: u32", but the kernel entry says "k_start: u32"/
        .test(e.message),
  );
  const dropped = SOURCES.get("binary.wgsl")!.replace(/\n\s*b_cs: u32,/, "");
  assert.throws(
    () => checkParams("binary", KERNELS.binary, dropped),
    /field 5 is missing, but the kernel entry says "b_cs: u32"/,
  );
});

const adapter = await webgpuAdapter();

Deno.test({
  name: "webgpu params: the backend refuses to build a pipeline whose Params were reordered",
  ignore: adapter === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const be = await createWebGpuBackend(adapter!, {
      sources: new Map([["matmul.wgsl", reorderedMatmul()]]),
    });
    try {
      const a = be.upload(new Float32Array([1, 2, 3, 4]));
      assert.throws(
        () => be.matmul(a, [2, 2], a, [2, 2], false, false),
        /webgpu kernel matmul .*"k_end: u32".*"k_start: u32"/,
      );
      // Kernels of other files still run.
      const t = be.transpose(a, [2, 2]);
      assert.deepEqual(Array.from(await be.read(t)), [1, 3, 2, 4]);
    } finally {
      be.destroy();
    }
  },
});

/**
 * Backend selection. On this machine the only WebGPU adapter is Mesa's llvmpipe software
 * rasteriser, so `auto` must pick cpu and say why; the assertions follow whatever adapter the
 * machine has, and are strict about the llvmpipe case.
 */
import { TensorError } from "../src/errors.ts";
import { describeAdapter } from "../src/tensor/adapter_info.ts";
import { selectBackend } from "../src/tensor/select.ts";
import { add, tensor } from "../src/tensor/ops.ts";
import { webgpuAdapter } from "./helpers.ts";

const adapter = await webgpuAdapter();
const info = adapter ? describeAdapter(adapter) : null;

function assert(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

const gpuTest = (name: string, fn: () => Promise<void> | void) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

gpuTest("describeAdapter flags llvmpipe as a software adapter", () => {
  if (adapter && /llvmpipe/i.test(adapter.info.description)) {
    assert(info!.software, `llvmpipe not flagged as software: ${JSON.stringify(info)}`);
    assert(info!.description.includes("llvmpipe"), `description ${info!.description} does not name llvmpipe`);
  }
  const fake = (i: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }) =>
    ({ info: i }) as unknown as GPUAdapter;
  const llvmpipe = describeAdapter(
    fake({ description: "llvmpipe (LLVM 15.0.6, 256 bits)", vendor: "65541" }),
  );
  assert(llvmpipe.software, "llvmpipe description not flagged");
  assert(llvmpipe.description === "llvmpipe (LLVM 15.0.6, 256 bits), vendor 65541", llvmpipe.description);
  assert(
    describeAdapter(fake({ description: "", device: "SwiftShader Device" })).software,
    "SwiftShader not flagged",
  );
  assert(describeAdapter(fake({ description: "lavapipe" })).software, "lavapipe not flagged");
  assert(
    describeAdapter(fake({ description: "some GPU", isFallbackAdapter: true })).software,
    "fallback not flagged",
  );
  const hw = describeAdapter(
    fake({ description: "NVIDIA GeForce RTX 4090", vendor: "nvidia", architecture: "ada" }),
  );
  assert(!hw.software, "a hardware adapter was flagged as software");
  assert(hw.description === "NVIDIA GeForce RTX 4090, vendor nvidia, ada", hw.description);
  assert(describeAdapter(fake({})).description === "unnamed adapter", "empty info");
});

gpuTest("selectBackend('auto') picks cpu on a software adapter and says why", async () => {
  const { backend, reason } = await selectBackend("auto");
  if (!adapter) {
    assert(backend.name === "cpu" && reason.includes("no WebGPU adapter"), reason);
  } else if (info!.software) {
    assert(backend.name === "cpu", `auto chose ${backend.name} on the software adapter ${info!.description}`);
    assert(reason.startsWith("cpu: "), reason);
    assert(reason.includes("software"), `reason does not mention the software adapter: ${reason}`);
    assert(reason.includes(info!.description), `reason does not name the adapter: ${reason}`);
    if (/llvmpipe/i.test(adapter.info.description)) assert(reason.includes("llvmpipe"), reason);
  } else {
    assert(backend.name === "webgpu" && reason.includes(info!.description), reason);
  }
  // The chosen backend computes.
  const x = tensor([1, 2], [1, 2], { backend }), y = add(x, 1);
  assert((await y.toArray()).join() === "2,3", "auto backend does not compute");
  x.dispose();
  y.dispose();
});

gpuTest("selectBackend('webgpu') works and reports the adapter", async () => {
  if (!adapter) {
    let err: unknown;
    await selectBackend("webgpu").catch((e) => (err = e));
    assert(err instanceof TensorError && err.message.includes("no WebGPU adapter"), String(err));
    return;
  }
  const { backend, reason } = await selectBackend("webgpu");
  assert(backend.name === "webgpu", `selectBackend('webgpu') gave ${backend.name}`);
  assert(reason.startsWith("webgpu: requested with --backend webgpu on "), reason);
  assert(
    reason.includes(info!.description),
    `reason does not name the adapter ${info!.description}: ${reason}`,
  );
  if (info!.software) assert(reason.includes("software rasteriser"), reason);
  assert(backend.device.length > 0, "the backend has no device description");
  const x = tensor([1, 2, 3], [1, 3], { backend }), y = add(x, x);
  assert((await y.toArray()).join() === "2,4,6", "webgpu backend does not compute");
  x.dispose();
  y.dispose();
});

gpuTest("selectBackend('cpu') gives the cpu backend", async () => {
  const { backend, reason } = await selectBackend("cpu");
  assert(backend.name === "cpu" && reason === "cpu: requested with --backend cpu", reason);
  assert(backend.readSync !== undefined, "the cpu backend reads synchronously");
});

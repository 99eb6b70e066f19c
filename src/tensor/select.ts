/**
 * Chooses the compute backend for `--backend auto|cpu|webgpu` and says why. A software WebGPU
 * adapter (llvmpipe, lavapipe, SwiftShader) is a fallback, not a GPU: on such machines `auto`
 * picks the CPU backend, whose GEMM is ~50× faster there.
 */
import { TensorError } from "../errors.ts";
import { describeAdapter } from "./adapter_info.ts";
import { requestWebGpuAdapter } from "./request_adapter.ts";
import type { Backend } from "./backend.ts";
import { CpuBackend } from "./backends/cpu.ts";
import { createWebGpuBackend } from "./backends/webgpu/backend.ts";

export type BackendKind = "auto" | "cpu" | "webgpu";
export const BACKEND_KINDS: readonly BackendKind[] = ["auto", "cpu", "webgpu"];

export interface BackendChoice {
  backend: Backend;
  /** One line for logs and result tables: what was chosen and why. */
  reason: string;
}

/** Creates the backend for `kind`; throws a TensorError for an unknown kind or a missing adapter. */
export async function selectBackend(kind: string): Promise<BackendChoice> {
  if (!BACKEND_KINDS.includes(kind as BackendKind)) {
    throw new TensorError(
      "selectBackend",
      `unknown backend "${kind}"; expected one of ${BACKEND_KINDS.join(", ")}`,
    );
  }
  if (kind === "cpu") return { backend: new CpuBackend(), reason: "cpu: requested with --backend cpu" };
  const adapter = await requestWebGpuAdapter();
  if (kind === "webgpu") {
    if (!adapter) {
      throw new TensorError("selectBackend", "--backend webgpu: no WebGPU adapter is available here");
    }
    const { description, software } = describeAdapter(adapter);
    return {
      backend: await createWebGpuBackend(adapter),
      reason: `webgpu: requested with --backend webgpu on ${description}${
        software ? " (software rasteriser, slow)" : ""
      }`,
    };
  }
  if (!adapter) return { backend: new CpuBackend(), reason: "cpu: auto found no WebGPU adapter" };
  const { description, software } = describeAdapter(adapter);
  if (software) {
    return {
      backend: new CpuBackend(),
      reason: `cpu: auto found only the software WebGPU adapter "${description}", which is no GPU`,
    };
  }
  return {
    backend: await createWebGpuBackend(adapter),
    reason: `webgpu: auto found hardware adapter "${description}"`,
  };
}

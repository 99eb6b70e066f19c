/**
 * The environment fingerprint recorded in every result table: what ran the numbers. Two results
 * are comparable bit for bit only when their fingerprints agree on the numeric platform
 * (numeric_platform.ts: backend, architecture, vector extension, onnxruntime and Deno).
 */
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { describeAdapter } from "../tensor/adapter_info.ts";
import { requestWebGpuAdapter } from "../tensor/request_adapter.ts";
import { selectBackend } from "../tensor/select.ts";
import { simdLevel } from "./numeric_platform.ts";

export interface EnvFingerprint {
  os: string;
  /** `simd`: the vector extension onnxruntime's kernels use here (numeric_platform.ts). */
  cpu: { model: string; cores: number; simd: string };
  memoryGiB: number;
  deno: string;
  v8: string;
  typescript: string;
  onnxruntime: string;
  /** The default WebGPU adapter; null where there is none or it was not probed (--backend cpu). */
  webgpu: { description: string; software: boolean } | null;
  backend: { requested: string; chosen: string; device: string; reason: string };
}

function onnxruntimeVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require("onnxruntime-node/package.json") as { version: string }).version;
  } catch {
    return "not installed";
  }
}

/** Collects the fingerprint; `backend` is the --backend request to resolve. */
export async function envFingerprint(backend = "auto"): Promise<EnvFingerprint> {
  // --backend cpu never touches WebGPU (probing it costs time and, on some machines, log noise).
  const adapter = backend === "cpu" ? null : await requestWebGpuAdapter();
  const choice = await selectBackend(backend);
  return {
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    cpu: { model: cpus()[0]?.model ?? "unknown", cores: navigator.hardwareConcurrency, simd: simdLevel() },
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    onnxruntime: onnxruntimeVersion(),
    webgpu: adapter ? describeAdapter(adapter) : null,
    backend: {
      requested: backend,
      chosen: choice.backend.name,
      device: choice.backend.device,
      reason: choice.reason,
    },
  };
}

/**
 * The one place that asks WebGPU for an adapter. On a machine without a desktop session, the
 * Vulkan loader's Wayland probe prints "error: XDG_RUNTIME_DIR is invalid or not set in the
 * environment" once per request, which users read as a failure of invbench. The probe only needs
 * the variable to name a private directory, so where it is unset a per-user one under the temp
 * directory is used (created with mode 0700); nothing is written into it.
 */
import { tmpdir } from "node:os";

function ensureRuntimeDir(): void {
  if (Deno.env.get("XDG_RUNTIME_DIR")) return;
  const dir = `${tmpdir()}/invbench-runtime-${Deno.uid() ?? "user"}`;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Only the message is at stake; the adapter request works either way.
  }
}

/** The default (high-performance) WebGPU adapter, or null where WebGPU has none. */
export async function requestWebGpuAdapter(): Promise<GPUAdapter | null> {
  if (typeof navigator === "undefined" || !navigator.gpu) return null;
  ensureRuntimeDir();
  try {
    return await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch {
    return null;
  }
}

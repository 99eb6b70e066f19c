/**
 * What the compute devices are, in words: the CPU's model, and a WebGPU adapter with whether it is a
 * software rasteriser (llvmpipe & co.).
 */
import { cpus } from "node:os";

/** Adapter names of software rasterisers: slower than the CPU backend for our kernels. */
const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

/** Describes a WebGPU adapter and whether it is a software rasteriser. */
export function describeAdapter(adapter: GPUAdapter): { description: string; software: boolean } {
  const info = adapter.info;
  const description = [info.description, info.vendor && `vendor ${info.vendor}`, info.architecture]
    .filter(Boolean).join(", ") || "unnamed adapter";
  const software = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
    SOFTWARE_ADAPTERS.test(info.description ?? "") || SOFTWARE_ADAPTERS.test(info.device ?? "");
  return { description, software };
}

/**
 * The CPU model: from /proc/cpuinfo where readable (Deno asks for --allow-all there), else from
 * node:os where --allow-sys grants it; null otherwise. Never prompts.
 */
export function cpuModel(): string | null {
  try {
    if (Deno.permissions.querySync({ name: "read", path: "/proc/cpuinfo" }).state === "granted") {
      const text = Deno.readTextFileSync("/proc/cpuinfo");
      const m = /^(?:model name|Hardware|cpu model)\s*:\s*(.+)$/m.exec(text);
      if (m) return m[1].trim();
    }
  } catch {
    // not readable under these permissions; try node:os
  }
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "cpus" }).state === "granted") {
      return cpus()[0]?.model?.trim() || null;
    }
  } catch {
    // no model string
  }
  return null;
}

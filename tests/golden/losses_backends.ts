/**
 * The backends the loss tests run on: cpu always; webgpu where an adapter exists (and
 * INVBENCH_TEST_WEBGPU is not "0"). The WebGPU module is imported lazily so the cpu tests run
 * wherever it cannot load.
 */
import type { Backend } from "../../src/tensor/backend.ts";
import { CpuBackend } from "../../src/tensor/backends/cpu.ts";
import { CounterRng } from "../../src/rng/philox.ts";

let cpu: Backend | undefined;
let webgpu: Promise<Backend | null> | undefined;

export function cpuBackend(): Backend {
  return cpu ??= new CpuBackend();
}

export function webgpuBackend(): Promise<Backend | null> {
  return webgpu ??= (async () => {
    if (Deno.env.get("INVBENCH_TEST_WEBGPU") === "0") return null;
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) return null;
    const module = "../../src/tensor/backends/webgpu.ts";
    const { createWebGpuBackend } = await import(module) as {
      createWebGpuBackend: (a: GPUAdapter) => Promise<Backend>;
    };
    return await createWebGpuBackend(adapter);
  })();
}

/** Seeded standard normals (float32) from the stream (0, "loss-tests", label). */
export function normals(label: string, n: number, std = 1, mean = 0): Float32Array {
  return new CounterRng(0, "loss-tests", label).normals(n, mean, std);
}

/** A seeded permutation of 0..n−1. */
export function permutation(label: string, n: number): Int32Array {
  return new CounterRng(0, "loss-tests", label).permutation(n);
}

/** max |got − want| / max |want|: the error relative to the largest reference value. */
export function relMaxError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`relMaxError: ${got.length} vs ${want.length} values`);
  let e = 0, s = 0;
  for (let i = 0; i < got.length; i++) {
    e = Math.max(e, Math.abs(got[i] - want[i]));
    s = Math.max(s, Math.abs(want[i]));
  }
  return e / (s || 1);
}

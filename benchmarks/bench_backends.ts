/** The backends a bench file runs on: cpu, and webgpu where an adapter exists and INVBENCH_BENCH_WEBGPU ≠ 0. */
import { type Backend, CpuBackend, createWebGpuBackend } from "../mod.ts";

export async function benchBackends(): Promise<Backend[]> {
  const list: Backend[] = [new CpuBackend()];
  if (Deno.env.get("INVBENCH_BENCH_WEBGPU") !== "0") {
    const adapter = await navigator.gpu?.requestAdapter();
    if (adapter) list.push(await createWebGpuBackend(adapter));
  }
  return list;
}

/** What a WebGPU adapter is, in words, and whether it is a software rasteriser (llvmpipe & co.). */

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

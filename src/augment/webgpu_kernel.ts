/**
 * What the augmentation kernels on WebGPU share (the warp, ./warp_webgpu.ts, and the corruption
 * passes, ./corrupt_webgpu.ts): compiling a WGSL file's entry points, the 2-D dispatch shape (one
 * invocation per output value, no loops: llvmpipe silently stops shader loops after 65,535
 * iterations, and x holds at most 65,535 workgroups), and one dispatch over fresh buffers.
 */
import { requestWebGpuAdapter } from "../tensor/request_adapter.ts";

export const WORKGROUP = 64;
const MAX_GROUPS_X = 65535;

/** A device and the pipelines of a kernel file's entry points. */
export interface CompiledKernel {
  device: GPUDevice;
  /** Whether the device was created here (and is destroyed with the kernel's owner). */
  owns: boolean;
  pipelines: GPUComputePipeline[];
}

/** Compiles `entryPoints` of the WGSL file at `url` on `device`, or on a device of the default adapter; null without one. */
export async function compileKernel(
  url: URL,
  entryPoints: string[],
  device?: GPUDevice,
): Promise<CompiledKernel | null> {
  let owns = false;
  if (!device) {
    const adapter = await requestWebGpuAdapter();
    if (!adapter) return null;
    device = await adapter.requestDevice();
    owns = true;
  }
  const module = device.createShaderModule({ code: await Deno.readTextFile(url) });
  const pipelines = await Promise.all(
    entryPoints.map((entryPoint) =>
      device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint } })
    ),
  );
  return { device, owns, pipelines };
}

/** Workgroups in x and y for `total` invocations, and the invocations per row the kernel needs. */
export function dispatchShape(total: number): { gx: number; gy: number; rowStride: number } {
  const groups = Math.ceil(total / WORKGROUP);
  const gx = Math.min(groups, MAX_GROUPS_X);
  return { gx, gy: Math.ceil(groups / gx), rowStride: gx * WORKGROUP };
}

/**
 * One dispatch of `pipeline` for `total` invocations: binding 0 the uniform `params`, bindings
 * 1..k the read-only `inputs`, binding k + 1 the output of `total` floats, which is returned.
 */
export async function dispatchOnce(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  params: Uint32Array,
  inputs: readonly Float32Array[],
  total: number,
): Promise<Float32Array> {
  const { gx, gy } = dispatchShape(total);
  const upload = (data: Uint32Array | Float32Array, usage: number) => {
    const b = device.createBuffer({
      size: Math.max(4, data.byteLength),
      usage: usage | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(b, 0, data);
    return b;
  };
  const bytes = 4 * total;
  const buffers = [
    upload(params, GPUBufferUsage.UNIFORM),
    ...inputs.map((x) => upload(x, GPUBufferUsage.STORAGE)),
    device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC }),
  ];
  const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    enc.copyBufferToBuffer(buffers[buffers.length - 1], 0, read, 0, bytes);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    return out;
  } finally {
    for (const b of [...buffers, read]) b.destroy();
  }
}

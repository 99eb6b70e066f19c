/**
 * The warp of warp_cpu.ts on a GPUDevice, with kernels/warp_bilinear.wgsl: one invocation per
 * output value (no loops: llvmpipe silently stops shader loops after 65,535 iterations), a 2-D
 * dispatch when the batch needs more than 65,535 workgroups in x, and batches split by images so no
 * buffer exceeds the device's storage-binding limit. Coordinates are float32 on the GPU (float64 on
 * the CPU): results agree within the tolerance tests/augment_webgpu_test.ts states, not bit-for-bit.
 */
import { requestWebGpuAdapter } from "../tensor/request_adapter.ts";
import { type BorderMode, checkWarpArgs, type WarpShape } from "./warp_cpu.ts";

const WORKGROUP = 64;
const MAX_GROUPS_X = 65535;
const KERNEL_URL = new URL("../../kernels/warp_bilinear.wgsl", import.meta.url);

/** A compiled warp pipeline on one device. */
export class WebGpuWarp {
  readonly device: GPUDevice;
  readonly #pipeline: GPUComputePipeline;
  readonly #ownsDevice: boolean;

  private constructor(device: GPUDevice, pipeline: GPUComputePipeline, ownsDevice: boolean) {
    this.device = device;
    this.#pipeline = pipeline;
    this.#ownsDevice = ownsDevice;
  }

  /** Compiles the kernel on `device`, or on a device of the default adapter; null if WebGPU has no adapter. */
  static async create(device?: GPUDevice): Promise<WebGpuWarp | null> {
    let owns = false;
    if (!device) {
      const adapter = await requestWebGpuAdapter();
      if (!adapter) return null;
      device = await adapter.requestDevice();
      owns = true;
    }
    const module = device.createShaderModule({ code: await Deno.readTextFile(KERNEL_URL) });
    const pipeline = await device.createComputePipelineAsync({
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    return new WebGpuWarp(device, pipeline, owns);
  }

  /** As warpCpu: warps each image by its inverse matrix; returns a new [n, c, h, w] array. */
  warp = async (
    src: Float32Array,
    shape: WarpShape,
    mats: ArrayLike<number>,
    fill: ArrayLike<number>,
    border: BorderMode = "fill",
  ): Promise<Float32Array> => {
    checkWarpArgs(src, shape, mats, fill);
    const per = shape.channels * shape.height * shape.width;
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, 64 << 20);
    const chunk = Math.max(1, Math.floor(limit / (4 * per)));
    const out = new Float32Array(src.length);
    const fill32 = Float32Array.from(fill);
    for (let start = 0; start < shape.n; start += chunk) {
      const n = Math.min(chunk, shape.n - start);
      const part = await this.#run(
        src.subarray(start * per, (start + n) * per),
        { ...shape, n },
        Float32Array.from({ length: 6 * n }, (_, k) => mats[6 * start + k]),
        fill32,
        border,
      );
      out.set(part, start * per);
    }
    return out;
  };

  async #run(
    src: Float32Array,
    shape: WarpShape,
    mats: Float32Array,
    fill: Float32Array,
    border: BorderMode,
  ): Promise<Float32Array> {
    const d = this.device;
    const total = src.length;
    if (total === 0) return new Float32Array(0);
    const groups = Math.ceil(total / WORKGROUP);
    const gx = Math.min(groups, MAX_GROUPS_X), gy = Math.ceil(groups / gx);
    const params = new Uint32Array([
      shape.n,
      shape.channels,
      shape.height,
      shape.width,
      border === "clamp" ? 1 : 0,
      total,
      gx * WORKGROUP,
      0,
    ]);
    const storage = (data: Float32Array) => {
      const b = d.createBuffer({
        size: Math.max(4, data.byteLength),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      d.queue.writeBuffer(b, 0, data);
      return b;
    };
    const uniform = d.createBuffer({
      size: params.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    d.queue.writeBuffer(uniform, 0, params);
    const bSrc = storage(src), bMats = storage(mats), bFill = storage(fill);
    const bDst = d.createBuffer({
      size: src.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const bRead = d.createBuffer({
      size: src.byteLength,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const bind = d.createBindGroup({
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: [uniform, bSrc, bMats, bFill, bDst].map((buffer, binding) => ({
          binding,
          resource: { buffer },
        })),
      });
      const enc = d.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(this.#pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
      enc.copyBufferToBuffer(bDst, 0, bRead, 0, src.byteLength);
      d.queue.submit([enc.finish()]);
      await bRead.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(bRead.getMappedRange().slice(0));
      bRead.unmap();
      return out;
    } finally {
      for (const b of [uniform, bSrc, bMats, bFill, bDst, bRead]) b.destroy();
    }
  }

  /** Releases the device if this object created it. */
  destroy(): void {
    if (this.#ownsDevice) this.device.destroy();
  }
}

/**
 * The warp of warp_cpu.ts on a GPUDevice, with kernels/warp_bilinear.wgsl: one invocation per
 * output value in a 2-D dispatch (./webgpu_kernel.ts), and batches split by images so no buffer
 * exceeds the device's storage-binding limit. Coordinates are float32 on the GPU (float64 on
 * the CPU): results agree within the tolerance tests/augment_webgpu_test.ts states, not bit-for-bit.
 */
import { type BorderMode, checkWarpArgs, type WarpShape } from "./warp_cpu.ts";
import { compileKernel, dispatchOnce, dispatchShape } from "./webgpu_kernel.ts";

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
    const k = await compileKernel(KERNEL_URL, ["main"], device);
    return k && new WebGpuWarp(k.device, k.pipelines[0], k.owns);
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

  #run(
    src: Float32Array,
    shape: WarpShape,
    mats: Float32Array,
    fill: Float32Array,
    border: BorderMode,
  ): Promise<Float32Array> {
    const total = src.length;
    if (total === 0) return Promise.resolve(new Float32Array(0));
    const params = new Uint32Array([
      shape.n,
      shape.channels,
      shape.height,
      shape.width,
      border === "clamp" ? 1 : 0,
      total,
      dispatchShape(total).rowStride,
      0,
    ]);
    return dispatchOnce(this.device, this.#pipeline, params, [src, mats, fill], total);
  }

  /** Releases the device if this object created it. */
  destroy(): void {
    if (this.#ownsDevice) this.device.destroy();
  }
}

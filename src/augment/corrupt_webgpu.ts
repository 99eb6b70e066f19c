/**
 * The corruption passes (./corrupt_passes.ts) on a GPUDevice, with kernels/corrupt_passes.wgsl:
 * one dispatch per pass for a whole batch (./webgpu_kernel.ts), batches split by images under the
 * storage-binding limit. Values agree with
 * runPassesCpu within float32 rounding (tests/augment_corrupt_webgpu_test.ts states the tolerance).
 */
import { BORDER_CODE, type CorruptPass } from "./corrupt_passes.ts";
import type { WarpShape } from "./warp_cpu.ts";
import { compileKernel, dispatchOnce, dispatchShape } from "./webgpu_kernel.ts";

const KERNEL_URL = new URL("../../kernels/corrupt_passes.wgsl", import.meta.url);

/** The two compiled pipelines (correlate, remap) on one device. */
export class WebGpuCorrupt {
  readonly device: GPUDevice;
  readonly #pipelines: Record<CorruptPass["op"], GPUComputePipeline>;
  readonly #ownsDevice: boolean;

  private constructor(
    device: GPUDevice,
    pipelines: Record<CorruptPass["op"], GPUComputePipeline>,
    owns: boolean,
  ) {
    this.device = device;
    this.#pipelines = pipelines;
    this.#ownsDevice = owns;
  }

  /** Compiles the kernels on `device`, or on a device of the default adapter; null without an adapter. */
  static async create(device?: GPUDevice): Promise<WebGpuCorrupt | null> {
    const k = await compileKernel(KERNEL_URL, ["correlate", "remap"], device);
    return k && new WebGpuCorrupt(k.device, { correlate: k.pipelines[0], remap: k.pipelines[1] }, k.owns);
  }

  /**
   * Runs `passes[i]` on image i of `src` ([n, c, h, w], [0, 1] units) and returns a new array. The
   * images' passes must match op by op, and a correlation's kernel must be the same for all.
   */
  async run(
    src: Float32Array,
    shape: WarpShape,
    passes: readonly (readonly CorruptPass[])[],
  ): Promise<Float32Array> {
    const { n, channels, height, width } = shape, per = channels * height * width, hw = height * width;
    if (src.length !== n * per) {
      throw new RangeError(`corrupt: ${src.length} values for ${n}×${channels}×${height}×${width}`);
    }
    if (passes.length !== n) throw new RangeError(`corrupt: ${passes.length} pass lists for ${n} images`);
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, 64 << 20);
    const chunk = Math.max(1, Math.floor(limit / (4 * Math.max(per, 2 * hw))));
    let x = src.slice();
    const steps = n ? passes[0].length : 0;
    for (let j = 0; j < steps; j++) {
      const first = passes[0][j];
      for (let i = 0; i < n; i++) {
        const p = passes[i][j];
        const same = p.op === first.op && p.border === first.border &&
          (p.op !== "correlate" || first.op !== "correlate" || (p.kh === first.kh && p.kw === first.kw &&
            p.kernel.every((v, k) => v === first.kernel[k])));
        if (passes[i].length !== steps || !same) {
          throw new RangeError(`corrupt: image ${i}'s pass ${j} differs from image 0's`);
        }
      }
      const out = new Float32Array(x.length);
      for (let start = 0; start < n; start += chunk) {
        const m = Math.min(chunk, n - start);
        let aux: Float32Array, kh = 1, kw = 1;
        if (first.op === "correlate") [aux, kh, kw] = [Float32Array.from(first.kernel), first.kh, first.kw];
        else {
          aux = new Float32Array(m * 2 * hw);
          for (let i = 0; i < m; i++) {
            const p = passes[start + i][j] as CorruptPass & { op: "remap" };
            aux.set(p.x, 2 * i * hw);
            aux.set(p.y, (2 * i + 1) * hw);
          }
        }
        const part = await this.#dispatch(first.op, x.subarray(start * per, (start + m) * per), aux, [
          m,
          channels,
          height,
          width,
          kh,
          kw,
          BORDER_CODE[first.border],
        ]);
        out.set(part, start * per);
      }
      x = out;
    }
    return x;
  }

  #dispatch(
    op: CorruptPass["op"],
    src: Float32Array,
    aux: Float32Array,
    dims: number[],
  ): Promise<Float32Array> {
    const total = src.length;
    if (total === 0) return Promise.resolve(new Float32Array(0));
    const params = new Uint32Array([...dims, total, dispatchShape(total).rowStride, 0, 0, 0]);
    return dispatchOnce(this.device, this.#pipelines[op], params, [src, aux], total);
  }

  /** Releases the device if this object created it. */
  destroy(): void {
    if (this.#ownsDevice) this.device.destroy();
  }
}

/**
 * Device buffers for the WebGPU backend, recycled by size: storage buffers in buckets (256 B, then
 * powers of two and 1.5 × powers of two) up to POOL_LIMIT_BYTES kept, and a few staging buffers
 * per size for reads. The dispatcher returns a buffer here only once the batch that last used it
 * has been submitted, so a recycled buffer never races pending work.
 */

/** Bytes of disposed buffers kept for reuse before further ones are destroyed. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;
/** Staging buffers kept per size. */
const STAGING_PER_SIZE = 4;

/** Pool bucket for a byte size: 256 B minimum, then powers of two and 1.5 × powers of two. */
export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.ceil(Math.log2(bytes));
  return p * 0.75 >= bytes ? p * 0.75 : p;
}

export class BufferPool {
  readonly #gpu: GPUDevice;
  /** The largest buffer a storage binding may hold on this device. */
  readonly maxBindingBytes: number;
  readonly #pool = new Map<number, GPUBuffer[]>();
  #pooledBytes = 0;
  readonly #staging = new Map<number, GPUBuffer[]>();
  /** Set when the device is destroyed: buffers returned afterwards are dropped. */
  closed = false;

  constructor(gpu: GPUDevice) {
    this.#gpu = gpu;
    this.maxBindingBytes = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  }

  /** A storage buffer of at least `bytes` bytes (from the pool when one of its bucket is free). */
  acquire(bytes: number, op: string): GPUBuffer {
    if (bytes > this.maxBindingBytes) {
      throw new Error(
        `webgpu ${op}: needs a ${bytes}-byte buffer, above this device's storage binding limit of ${this.maxBindingBytes} bytes`,
      );
    }
    const size = Math.min(
      bucketBytes(bytes),
      Math.max(this.maxBindingBytes - (this.maxBindingBytes % 4), 256),
    );
    const list = this.#pool.get(size);
    if (list && list.length > 0) {
      this.#pooledBytes -= size;
      return list.pop()!;
    }
    return this.#gpu.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  /** Keeps `buffer` for reuse (no command may still reference it), or destroys it past the limit. */
  put(buffer: GPUBuffer): void {
    if (this.closed) return;
    if (this.#pooledBytes + buffer.size > POOL_LIMIT_BYTES) {
      buffer.destroy();
      return;
    }
    let list = this.#pool.get(buffer.size);
    if (!list) this.#pool.set(buffer.size, list = []);
    list.push(buffer);
    this.#pooledBytes += buffer.size;
  }

  /** A mappable staging buffer for reads of up to `size` bytes (`size` a bucket size). */
  staging(size: number): GPUBuffer {
    return this.#staging.get(size)?.pop() ??
      this.#gpu.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Returns an unmapped staging buffer for reuse. */
  putStaging(buffer: GPUBuffer): void {
    let list = this.#staging.get(buffer.size);
    if (!list) this.#staging.set(buffer.size, list = []);
    if (list.length < STAGING_PER_SIZE) list.push(buffer);
    else buffer.destroy();
  }
}

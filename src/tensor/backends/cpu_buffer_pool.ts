/**
 * Float and index buffers of the CPU backend, recycled by kind and length. A training step allocates the same
 * intermediates step after step (the same shapes in the same order) and `tidy` frees them all at
 * its end; handing a freed array to the next allocation of that length avoids zeroing fresh pages
 * and the garbage collector's work (a 1024×1024 add spent ~3/4 of its time allocating). Values
 * are unchanged: `take` is only used by kernels that write every element, `takeZeroed` by those
 * that accumulate.
 *
 * Arrays shorter than `MIN_POOLED` are left to the allocator (cheap, and a map lookup would cost
 * more), and at most `MAX_POOLED_BYTES` are held: a release that would exceed it drops everything
 * held first (arrays of an earlier phase's shapes), so the pool follows the current phase and never
 * holds more than one step's garbage would occupy anyway.
 */

/** Shorter arrays are not pooled. */
export const MIN_POOLED = 4096;
/** Most bytes the pool holds at once; a release beyond it first drops everything held. */
export const MAX_POOLED_BYTES = 256 * 1024 * 1024;

export class CpuBufferPool {
  #free = new Map<number, Float32Array[]>();
  #freeIndex = new Map<number, Int32Array[]>();
  #bytes = 0;

  /** Bytes currently held for reuse. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A float array of `length` elements with arbitrary contents (the caller writes all of them). */
  take(length: number): Float32Array {
    if (length >= MIN_POOLED) {
      const list = this.#free.get(length);
      const a = list?.pop();
      if (a) {
        this.#bytes -= a.byteLength;
        return a;
      }
    }
    return new Float32Array(length);
  }

  /** A float array of `length` zeros. */
  takeZeroed(length: number): Float32Array {
    if (length < MIN_POOLED) return new Float32Array(length);
    const list = this.#free.get(length);
    const a = list?.pop();
    if (!a) return new Float32Array(length);
    this.#bytes -= a.byteLength;
    return a.fill(0);
  }

  /** An int32 array of `length` elements with arbitrary contents (the caller writes all of them). */
  takeIndex(length: number): Int32Array {
    const a = length >= MIN_POOLED ? this.#freeIndex.get(length)?.pop() : undefined;
    if (!a) return new Int32Array(length);
    this.#bytes -= a.byteLength;
    return a;
  }

  /** Hands an array back; the caller must hold no other reference to it. */
  release(a: Float32Array | Int32Array): void {
    if (a.length < MIN_POOLED || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
    // Full: what is held belongs to an earlier phase (other shapes); drop it and start over.
    if (this.#bytes + a.byteLength > MAX_POOLED_BYTES) this.clear();
    if (a.byteLength > MAX_POOLED_BYTES) return;
    if (a instanceof Float32Array) push(this.#free, a);
    else push(this.#freeIndex, a);
    this.#bytes += a.byteLength;
  }

  /** Drops every held array. */
  clear(): void {
    this.#free.clear();
    this.#freeIndex.clear();
    this.#bytes = 0;
  }
}

function push<T>(free: Map<number, T[]>, a: T & { length: number }): void {
  let list = free.get(a.length);
  if (!list) free.set(a.length, list = []);
  list.push(a);
}

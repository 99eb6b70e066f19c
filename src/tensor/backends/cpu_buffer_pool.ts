/**
 * Float and index buffers of the CPU backend, recycled by kind and length. A training step allocates the same
 * intermediates step after step (the same shapes in the same order) and `tidy` frees them all at
 * its end; handing a freed array to the next allocation of that length avoids zeroing fresh pages
 * and the garbage collector's work (a 1024×1024 add spent ~3/4 of its time allocating). Values
 * are unchanged: `take` is only used by kernels that write every element, `takeZeroed` by those
 * that accumulate.
 *
 * Arrays shorter than `MIN_POOLED` are left to the allocator (cheap, and a map lookup would cost
 * more; but from 1024 elements on, pooling pays: a linear classifier's [256, 10] logits and their
 * gradient, fresh every step, also cost a fresh onnxruntime tensor for each product, which
 * ort_gemm.ts makes once per array), and at most `MAX_POOLED_BYTES` are held: a release that
 * would exceed it first drops the arrays of the lengths least recently taken or released (an earlier phase's shapes, or the last
 * short batch of an epoch), only as many as it takes, so the pool follows the current phase
 * without throwing away the full step's arrays each time a smaller step comes between (which
 * left them as garbage while the next step allocated them again: twice a step's memory).
 * New arrays are shared memory where kernels split over two threads (cpu_threads.ts).
 */

import { forgetHelperBuffers, newFloats, newIndices } from "./cpu_threads.ts";

/** Shorter arrays are not pooled. */
export const MIN_POOLED = 1024;
/** Most bytes a pool holds at once by default (a parallel run gives each worker its share). */
export const MAX_POOLED_BYTES = 256 * 1024 * 1024;

export class CpuBufferPool {
  /** Most bytes held at once: a release beyond it first drops the least recently used lengths. */
  readonly maxBytes: number;
  #free = new Map<number, Float32Array[]>();
  #freeIndex = new Map<number, Int32Array[]>();
  #bytes = 0;

  constructor(maxBytes = MAX_POOLED_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Bytes currently held for reuse. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A float array of `length` elements with arbitrary contents (the caller writes all of them). */
  take(length: number): Float32Array {
    if (length >= MIN_POOLED) {
      const list = touch(this.#free, length);
      const a = list?.pop();
      if (a) {
        this.#bytes -= a.byteLength;
        return a;
      }
    }
    return newFloats(length);
  }

  /** A float array of `length` zeros. */
  takeZeroed(length: number): Float32Array {
    if (length < MIN_POOLED) return newFloats(length);
    const list = touch(this.#free, length);
    const a = list?.pop();
    if (!a) return newFloats(length);
    this.#bytes -= a.byteLength;
    return a.fill(0);
  }

  /** An int32 array of `length` elements with arbitrary contents (the caller writes all of them). */
  takeIndex(length: number): Int32Array {
    const a = length >= MIN_POOLED ? touch(this.#freeIndex, length)?.pop() : undefined;
    if (!a) return newIndices(length);
    this.#bytes -= a.byteLength;
    return a;
  }

  /** Hands an array back; the caller must hold no other reference to it. */
  release(a: Float32Array | Int32Array): void {
    if (a.length < MIN_POOLED || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
    if (a.byteLength > this.maxBytes) return;
    // Full: drop the least recently used lengths (an earlier phase's shapes) until `a` fits.
    this.#evict(this.maxBytes - a.byteLength);
    if (a instanceof Float32Array) push(this.#free, a);
    else push(this.#freeIndex, a);
    this.#bytes += a.byteLength;
  }

  /** Drops whole lengths, least recently used first, until at most `limit` bytes are held. */
  #evict(limit: number): void {
    for (const free of [this.#free, this.#freeIndex]) {
      for (const [length, list] of free) {
        if (this.#bytes <= limit) return;
        for (const a of list) this.#bytes -= a.byteLength;
        free.delete(length);
      }
    }
  }

  /** Drops every held array (and lets the helper thread drop the ones it was sent). */
  clear(): void {
    this.#free.clear();
    this.#freeIndex.clear();
    this.#bytes = 0;
    forgetHelperBuffers();
  }
}

/** The list of `length`, moved to the most recently used end of the map (its insertion order). */
function touch<T>(free: Map<number, T[]>, length: number): T[] | undefined {
  const list = free.get(length);
  if (list) {
    free.delete(length);
    free.set(length, list);
  }
  return list;
}

function push<T>(free: Map<number, T[]>, a: T & { length: number }): void {
  let list = touch(free, a.length);
  if (!list) free.set(a.length, list = []);
  list.push(a);
}

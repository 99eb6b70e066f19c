/**
 * What the CPU backend's calling thread and its helper thread (cpu_threads.ts,
 * cpu_helper_worker.ts) share: the control words, the layout of a job in shared memory, the
 * messages that carry buffers and strings, and the set of buffers the helper holds, which both
 * threads update alike.
 */
import { SPLIT_KERNELS, type SplitKernelName } from "./cpu_split_kernels.ts";

/** Control words shared with the helper (Int32Array indices). */
export const CONTROL = {
  /** The last finished job's number, negated when its kernel threw. */
  done: 0,
  /** The number of the job to run. */
  job: 1,
  /** 1 once the helper listens. */
  alive: 2,
  /** Messages (buffers, strings) sent before the job; the helper reads that many first. */
  messages: 3,
  /** How many buffers the helper holds after its last job (tests compare it with the caller's count). */
  held: 4,
  size: 5,
} as const;

/** A job in shared memory (Float64Array): kernel index, range, argument count, then 4 slots an argument. */
export const JOB_HEAD = 4, ARG_SLOTS = 4, MAX_ARGS = 16;
/** Argument kinds in a job's first slot of each argument. */
export const ARG = { number: 0, floats: 1, indices: 2, string: 3 } as const;

/** The kernels by index, the same list on both threads. */
export const KERNEL_NAMES = Object.keys(SPLIT_KERNELS) as SplitKernelName[];

/** What the caller sends the helper besides jobs: buffers it lacks and new strings, by number. */
export interface HelperMessage {
  /** Forget every held buffer first (`forgetHelperBuffers`). */
  clear: boolean;
  buffers: [number, SharedArrayBuffer][];
  strings: [number, string][];
}

/**
 * Most bytes of buffers the helper holds; beyond it the least recently used go (not the job's
 * own). The buffer pool's own bound: a paper-shape step's split buffers take 126-218 MiB.
 */
export const HELD_BYTES = 256 * 1024 * 1024;

/**
 * The buffers the helper holds, by number, least recently used first. Both threads apply the same
 * `clear` and `use` calls in the same order (the caller while encoding a job, the helper while
 * decoding it), so both hold the same set: a buffer the caller finds missing is one to send.
 */
export class HeldBuffers<T> {
  #held = new Map<number, { value: T; bytes: number; job: number }>();
  #bytes = 0;

  get size(): number {
    return this.#held.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(id: number): boolean {
    return this.#held.has(id);
  }

  get(id: number): T | undefined {
    return this.#held.get(id)?.value;
  }

  /** Marks `id` used by `job` (adding it with `value` if absent), then evicts beyond `HELD_BYTES`. */
  use(id: number, value: T, bytes: number, job: number): void {
    const old = this.#held.get(id);
    if (old) this.#held.delete(id);
    else this.#bytes += bytes;
    this.#held.set(id, { value: old?.value ?? value, bytes, job });
    for (const [k, e] of this.#held) {
      if (this.#bytes <= HELD_BYTES || e.job === job) break;
      this.#held.delete(k);
      this.#bytes -= e.bytes;
    }
  }

  clear(): void {
    this.#held.clear();
    this.#bytes = 0;
  }
}

/**
 * Both cores for the CPU backend's large element-wise kernels and row reductions. A process that
 * has the machine's cores to itself (a single run, a bench; not each worker of a parallel run,
 * which has one core) splits such a kernel in two: the calling thread computes one range of rows,
 * elements or columns while a helper thread computes the other (`SPLIT_KERNELS`), on the same
 * memory: the CPU backend's buffers are then SharedArrayBuffers. Every output is computed as on one
 * thread, so the values do not depend on the thread count.
 *
 * The helper is a `node:worker_threads` Worker, unref'd so that it never keeps a process alive,
 * that sleeps in `Atomics.wait` between jobs. A job is written into shared memory (the kernel,
 * its range, its numbers, its arrays by buffer number) and the caller waits with `Atomics.wait`
 * once its own range is done, so the kernels stay synchronous: ~20 µs there and back, where a
 * message to the worker's event loop took ~170 µs (Deno's worker_threads messages are slow; both
 * measured on a 2-core Zen 3 VM). Buffers and strings reach the helper as messages it reads with
 * `receiveMessageOnPort` when a job needs them. The helper keeps the buffers it was sent in a
 * `HeldBuffers` set of at most `HELD_BYTES` that both threads update alike, job by job, so the
 * caller knows without asking which ones it must send again, and the memory the helper alone keeps
 * alive is bounded whatever the garbage collector does. Where the helper cannot start, every kernel
 * runs whole on the calling thread.
 */
import { MessageChannel, Worker as ThreadWorker } from "node:worker_threads";
import { type SplitArgs, splitKernel, type SplitKernelName } from "./cpu_split_kernels.ts";
import {
  ARG,
  ARG_SLOTS,
  CONTROL,
  HeldBuffers,
  type HelperMessage,
  JOB_HEAD,
  KERNEL_NAMES,
  MAX_ARGS,
} from "./cpu_helper_protocol.ts";

/**
 * Kernels touching fewer elements run on one thread: below this, a split's ~20 µs hand-over is
 * a large part of what it saves (an element-wise pass costs ~1-2 ns a float here).
 */
export const MIN_SPLIT_ELEMENTS = 1 << 15;

/** How long the helper may take to start before the kernels give up on it (ms). */
const START_TIMEOUT_MS = 10_000;
/** A helper that takes this much longer than the calling thread's equal share (or 60 s) is lost. */
const LOST_FACTOR = 50, LOST_MIN_MS = 60_000;

let threads = Math.min(2, navigator.hardwareConcurrency);

/**
 * Runs the splittable kernels on `n` threads from now on (1 or 2; more are not used). One is for
 * each worker of a parallel run, which has a core to itself; the values are the same either way.
 */
export function setElementwiseThreads(n: number): void {
  threads = Math.max(1, Math.min(2, Math.floor(n)));
}

/** The threads the splittable kernels run on (1 where the helper could not start). */
export function elementwiseThreads(): number {
  return threads > 1 && helper !== null ? 2 : 1;
}

/** A float array the helper can write: on a SharedArrayBuffer while kernels split, else plain. */
export function newFloats(length: number): Float32Array {
  return elementwiseThreads() > 1
    ? new Float32Array(new SharedArrayBuffer(length * 4))
    : new Float32Array(length);
}

/** An int32 array the helper can write (see `newFloats`). */
export function newIndices(length: number): Int32Array {
  return elementwiseThreads() > 1
    ? new Int32Array(new SharedArrayBuffer(length * 4))
    : new Int32Array(length);
}

/** Ranges handed to the helper so far, by kernel (tests check that a split happened). */
export const helperJobs = new Map<SplitKernelName, number>();

class Helper {
  readonly control = new Int32Array(new SharedArrayBuffer(CONTROL.size * 4));
  readonly slots = new Float64Array(new SharedArrayBuffer((JOB_HEAD + ARG_SLOTS * MAX_ARGS) * 8));
  readonly channel = new MessageChannel();
  readonly worker: ThreadWorker;
  job = 0;
  messages = 0;
  /** The buffers the helper holds, as it will after the jobs sent so far. */
  readonly held = new HeldBuffers<SharedArrayBuffer>();
  #ids = new WeakMap<SharedArrayBuffer, number>();
  #strings = new Map<string, number>();
  #nextId = 1;
  #pending: HelperMessage = { clear: false, buffers: [], strings: [] };

  constructor() {
    const { control, slots } = this, port = this.channel.port2;
    this.worker = new ThreadWorker(new URL("./cpu_helper_worker.ts", import.meta.url), {
      workerData: { control, slots, port },
      transferList: [port],
    });
    this.worker.unref();
  }

  #bufferId(b: SharedArrayBuffer, job: number): number {
    let id = this.#ids.get(b);
    if (id === undefined) this.#ids.set(b, id = this.#nextId++);
    if (!this.held.has(id)) this.#pending.buffers.push([id, b]);
    this.held.use(id, b, b.byteLength, job);
    return id;
  }

  #stringId(s: string): number {
    let id = this.#strings.get(s);
    if (id === undefined) {
      this.#strings.set(s, id = this.#nextId++);
      this.#pending.strings.push([id, s]);
    }
    return id;
  }

  /** The helper forgets every buffer with the next job (they are sent again when used). */
  forget(): void {
    this.held.clear();
    this.#pending = { clear: true, buffers: [], strings: this.#pending.strings };
  }

  /**
   * Writes job `name` over [lo, hi) into shared memory and returns its number; null (nothing
   * written) when an argument cannot be sent.
   */
  encode(name: SplitKernelName, lo: number, hi: number, args: readonly unknown[]): number | null {
    if (args.length > MAX_ARGS) return null;
    for (const a of args) {
      const typed = a instanceof Float32Array || a instanceof Int32Array;
      if (typed ? !(a.buffer instanceof SharedArrayBuffer) : typeof a !== "number" && typeof a !== "string") {
        return null;
      }
    }
    const s = this.slots, job = this.job >= 0x3fffffff ? 1 : this.job + 1;
    s[0] = KERNEL_NAMES.indexOf(name);
    s[1] = lo;
    s[2] = hi;
    s[3] = args.length;
    for (let i = 0; i < args.length; i++) {
      const a = args[i], at = JOB_HEAD + i * ARG_SLOTS;
      if (typeof a === "number") {
        s[at] = ARG.number;
        s[at + 1] = a;
      } else if (typeof a === "string") {
        s[at] = ARG.string;
        s[at + 1] = this.#stringId(a);
      } else {
        const v = a as Float32Array | Int32Array;
        s[at] = v instanceof Float32Array ? ARG.floats : ARG.indices;
        s[at + 1] = this.#bufferId(v.buffer as SharedArrayBuffer, job);
        s[at + 2] = v.byteOffset;
        s[at + 3] = v.length;
      }
    }
    return this.job = job;
  }

  /** Sends what the helper lacks for the encoded job `job`, then starts it. */
  start(job: number): void {
    const p = this.#pending;
    if (p.clear || p.buffers.length || p.strings.length) {
      this.channel.port1.postMessage(p);
      this.#pending = { clear: false, buffers: [], strings: [] };
      this.messages++;
    }
    Atomics.store(this.control, CONTROL.messages, this.messages);
    Atomics.store(this.control, CONTROL.job, job);
    Atomics.notify(this.control, CONTROL.job);
  }
}

/** The helper; null where it could not start, undefined before the first split. */
let helper: Helper | null | undefined;

/**
 * Lets the helper drop every buffer it holds (with its next job): for the end of a phase, such as
 * a cell, whose buffers the caller has freed. They are sent again when used.
 */
export function forgetHelperBuffers(): void {
  helper?.forget();
}

/** Buffers the helper holds after its last job, as the caller and the helper count them (tests). */
export function helperHeld(): { caller: number; helper: number; bytes: number } | null {
  return helper
    ? {
      caller: helper.held.size,
      helper: Atomics.load(helper.control, CONTROL.held),
      bytes: helper.held.bytes,
    }
    : null;
}

function startHelper(): Helper | null {
  let h: Helper;
  try {
    h = new Helper();
  } catch {
    return null;
  }
  // An error event (the thread failed to load) can only arrive after this thread waited; it
  // leaves the helper unused rather than crashing the process. (The cast: checked with the whole
  // tree, Deno's types lose the Worker's EventEmitter methods.)
  (h.worker as unknown as { once(event: "error", listener: () => void): void }).once("error", () => {
    if (helper === h) helper = null;
  });
  if (Atomics.wait(h.control, CONTROL.alive, 0, START_TIMEOUT_MS) === "timed-out") {
    void h.worker.terminate();
    return null;
  }
  return h;
}

/**
 * Runs kernel `name` over `[0, total)` of its split dimension: split in two halves, the second on
 * the helper, where the process may use two threads, the kernel touches at least
 * `MIN_SPLIT_ELEMENTS` elements and every array argument is shared memory; else whole here.
 */
export function runSplit<K extends SplitKernelName>(
  name: K,
  total: number,
  elements: number,
  ...args: SplitArgs<K>
): void {
  const kernel = splitKernel(name);
  const mid = Math.floor(total / 2);
  const h = threads < 2 || total < 2 || elements < MIN_SPLIT_ELEMENTS || helper === null
    ? null
    : helper ??= startHelper();
  const job = h?.encode(name, mid, total, args);
  if (!h || !job) {
    kernel(0, total, ...args);
    return;
  }
  h.start(job);
  helperJobs.set(name, (helperJobs.get(name) ?? 0) + 1);
  const begin = performance.now();
  kernel(0, mid, ...args);
  const limit = Math.max(LOST_MIN_MS, LOST_FACTOR * (performance.now() - begin));
  for (;;) {
    const done = Atomics.load(h.control, CONTROL.done);
    if (done === job) return;
    if (done === -job) {
      // The helper threw: run its range here, which throws the same error with this thread's
      // stack, or, if it does not (the helper ran out of memory), gives the same values.
      helper = null;
      void h.worker.terminate();
      kernel(mid, total, ...args);
      return;
    }
    if (Atomics.wait(h.control, CONTROL.done, done, limit) === "timed-out") {
      throw new Error(`cpu_threads: the helper thread did not finish ${name} within ${Math.round(limit)} ms`);
    }
  }
}

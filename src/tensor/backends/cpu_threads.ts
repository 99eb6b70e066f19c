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
 * measured on a 2-core Zen 3 VM). Buffers and strings reach the helper once, as messages it reads
 * with `receiveMessageOnPort` when a job needs them; a buffer the caller no longer holds is
 * dropped there too. Where the helper cannot start, every kernel runs whole on the calling thread.
 */
import { MessageChannel, Worker as ThreadWorker } from "node:worker_threads";
import { SPLIT_KERNELS, type SplitArgs, type SplitKernelName } from "./cpu_split_kernels.ts";

/**
 * Kernels touching fewer elements run on one thread: below this, a split's ~20 µs hand-over is
 * a large part of what it saves (an element-wise pass costs ~1-2 ns a float here).
 */
export const MIN_SPLIT_ELEMENTS = 1 << 15;

/** How long the helper may take to start before the kernels give up on it (ms). */
const START_TIMEOUT_MS = 10_000;
/** A helper that takes this much longer than the calling thread's equal share (or 60 s) is lost. */
const LOST_FACTOR = 50, LOST_MIN_MS = 60_000;

/** Control words shared with the helper (Int32Array indices). */
export const CONTROL = {
  /** The last finished job's number, negated when its kernel threw. */
  done: 0,
  /** The number of the job to run. */
  job: 1,
  /** 1 once the helper listens. */
  alive: 2,
  /** Messages (buffers, strings, drops) sent before the job; the helper reads that many first. */
  messages: 3,
  size: 4,
} as const;

/** A job in shared memory (Float64Array): kernel index, range, argument count, then 4 slots an argument. */
export const JOB_HEAD = 4, ARG_SLOTS = 4, MAX_ARGS = 16;
/** Argument kinds in a job's first slot of each argument. */
export const ARG = { number: 0, floats: 1, indices: 2, string: 3 } as const;

/** The kernels by index, the same list on both threads. */
export const KERNEL_NAMES = Object.keys(SPLIT_KERNELS) as SplitKernelName[];

/** What the caller sends the helper besides jobs: new buffers and strings by number, dropped buffers. */
export interface HelperMessage {
  buffers: [number, SharedArrayBuffer][];
  strings: [number, string][];
  drop: number[];
}

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
  #buffers = new WeakMap<SharedArrayBuffer, number>();
  #strings = new Map<string, number>();
  #nextId = 1;
  #pending: HelperMessage = { buffers: [], strings: [], drop: [] };
  // A buffer collected here is dropped by the helper with the next job.
  #collected = new FinalizationRegistry<number>((id) => this.#pending.drop.push(id));

  constructor() {
    const { control, slots } = this, port = this.channel.port2;
    this.worker = new ThreadWorker(new URL("./cpu_helper_worker.ts", import.meta.url), {
      workerData: { control, slots, port },
      transferList: [port],
    });
    this.worker.unref();
  }

  #bufferId(b: SharedArrayBuffer): number {
    let id = this.#buffers.get(b);
    if (id === undefined) {
      this.#buffers.set(b, id = this.#nextId++);
      this.#collected.register(b, id);
      this.#pending.buffers.push([id, b]);
    }
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

  /** Writes job `name` over [lo, hi) into shared memory; false when an argument cannot be sent. */
  encode(name: SplitKernelName, lo: number, hi: number, args: readonly unknown[]): boolean {
    const s = this.slots;
    if (args.length > MAX_ARGS) return false;
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
      } else if (a instanceof Float32Array || a instanceof Int32Array) {
        if (!(a.buffer instanceof SharedArrayBuffer)) return false;
        s[at] = a instanceof Float32Array ? ARG.floats : ARG.indices;
        s[at + 1] = this.#bufferId(a.buffer);
        s[at + 2] = a.byteOffset;
        s[at + 3] = a.length;
      } else return false;
    }
    return true;
  }

  /** Sends what the helper lacks for the encoded job, then starts it; returns its number. */
  start(): number {
    const p = this.#pending;
    if (p.buffers.length || p.strings.length || p.drop.length) {
      this.channel.port1.postMessage(p);
      this.#pending = { buffers: [], strings: [], drop: [] };
      this.messages++;
    }
    Atomics.store(this.control, CONTROL.messages, this.messages);
    const job = this.job = this.job >= 0x3fffffff ? 1 : this.job + 1;
    Atomics.store(this.control, CONTROL.job, job);
    Atomics.notify(this.control, CONTROL.job);
    return job;
  }
}

/** The helper; null where it could not start, undefined before the first split. */
let helper: Helper | null | undefined;

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
  const kernel = SPLIT_KERNELS[name] as (lo: number, hi: number, ...rest: unknown[]) => void;
  const mid = Math.floor(total / 2);
  const h = threads < 2 || total < 2 || elements < MIN_SPLIT_ELEMENTS || helper === null
    ? null
    : helper ??= startHelper();
  if (!h || !h.encode(name, mid, total, args)) {
    kernel(0, total, ...args);
    return;
  }
  const job = h.start();
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

/**
 * The CPU backend's helper thread (cpu_threads.ts): sleeps until a job is posted in shared memory,
 * reads the buffers and strings it was sent for it, runs the kernel's range, then stores the job's
 * number (negated if the kernel threw) and wakes the waiting thread.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { splitKernel } from "./cpu_split_kernels.ts";
import {
  ARG,
  ARG_SLOTS,
  CONTROL,
  HeldBuffers,
  type HelperMessage,
  JOB_HEAD,
  KERNEL_NAMES,
} from "./cpu_helper_protocol.ts";

const { control, slots, port } = workerData as {
  control: Int32Array;
  slots: Float64Array;
  port: MessagePort;
};
// The buffers held, updated as the caller updates its copy (cpu_helper_protocol.ts); those just sent wait in
// `arrived` until their job uses them.
const held = new HeldBuffers<SharedArrayBuffer>(), arrived = new Map<number, SharedArrayBuffer>();
const strings = new Map<number, string>();
let received = 0;

/** Reads messages until `count` have arrived (they were posted before the job was). */
function receive(count: number): void {
  while (received < count) {
    const m = receiveMessageOnPort(port);
    if (!m) continue;
    const { clear, buffers, strings: names } = m.message as HelperMessage;
    if (clear) held.clear();
    for (const [id, b] of buffers) arrived.set(id, b);
    for (const [id, s] of names) strings.set(id, s);
    received++;
  }
}

/**
 * A number read back from the job's float64 slots, as the small integer it was when it is one:
 * V8 keeps a float64 slot's value a double, and loops indexed with doubles run ~1.5× slower.
 */
function int(v: number): number {
  return (v | 0) === v && !Object.is(v, -0) ? v | 0 : v;
}

function decode(count: number, job: number): unknown[] {
  const args: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const at = JOB_HEAD + i * ARG_SLOTS, kind = slots[at], v = slots[at + 1];
    if (kind === ARG.number) args.push(int(v));
    else if (kind === ARG.string) args.push(strings.get(v));
    else {
      const id = int(v), b = held.get(id) ?? arrived.get(id)!;
      arrived.delete(id);
      held.use(id, b, b.byteLength, job);
      const offset = int(slots[at + 2]), length = int(slots[at + 3]);
      args.push(
        kind === ARG.floats ? new Float32Array(b, offset, length) : new Int32Array(b, offset, length),
      );
    }
  }
  return args;
}

Atomics.store(control, CONTROL.alive, 1);
Atomics.notify(control, CONTROL.alive);
for (let last = 0;;) {
  Atomics.wait(control, CONTROL.job, last);
  last = Atomics.load(control, CONTROL.job);
  let status = last;
  try {
    receive(Atomics.load(control, CONTROL.messages));
    splitKernel(KERNEL_NAMES[slots[0]])(int(slots[1]), int(slots[2]), ...decode(slots[3], last));
  } catch {
    status = -last;
  }
  Atomics.store(control, CONTROL.held, held.size);
  Atomics.store(control, CONTROL.done, status);
  Atomics.notify(control, CONTROL.done);
}

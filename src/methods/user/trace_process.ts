/**
 * The sandbox a method file runs in: a Deno process that src/methods/user/sandbox.ts starts with
 * no permissions (and no string evaluation, remote or npm modules). It reads requests as JSON
 * lines on stdin (the first line is a nonce that prefixes each reply line on stdout, so what the
 * file prints is not taken for a reply), imports the file's source from a data: URL, copies the
 * plain fields of its default export, and traces `loss` on shape-only tensors (shape_backend.ts)
 * for each requested batch shape, recording every call to `ops` (ops_table.ts) as a graph node.
 * Before the file runs, nested workers and Math.random are removed, so the graph cannot differ
 * from run to run.
 */
import { IndexTensor, setBackend, Tensor } from "../../tensor/tensor.ts";
import type { BatchShape, GraphArg, GraphNode, GraphOut, LossGraph } from "./graph.ts";
import { CREATION_OPS, RANDOM_OPS, TENSOR_OPS } from "./ops_table.ts";
import { ShapeBackend, TraceError } from "./shape_backend.ts";

/** First a `load` of the file, then any number of `trace` requests. */
export type TraceRequest =
  | { kind: "load"; /** data: URL of the method file's source. */ url: string }
  | { kind: "trace"; shapes: BatchShape[]; params: Readonly<Record<string, number | undefined>> };

export type RefusalKind = "sandbox" | "trace" | "throw" | "definition" | "unsandboxed";

export type TraceReply =
  | { ok: true; definition?: Record<string, unknown>; graphs?: LossGraph[] }
  | { ok: false; kind: RefusalKind; message: string };

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** Closes what the process flags leave open: nested workers and unseeded randomness. */
function harden(): void {
  (globalThis as Record<string, unknown>).Worker = undefined;
  Math.random = () => {
    throw new TraceError("Math.random is not allowed: use ops.randomNormal / ops.randomPermutation");
  };
}

/** A value the tracer cannot know: reading it is data-dependent control flow. */
function opaque(what: string): unknown {
  const refuse = () => {
    throw new TraceError(
      `${what} is not known while tracing; random draws come from ops.randomNormal / ops.randomPermutation`,
    );
  };
  return new Proxy({}, { get: (_t, key) => (key === Symbol.toPrimitive ? refuse : refuse()) });
}

function trace(
  loss: (batch: unknown, params: unknown, ops: unknown) => unknown,
  shape: BatchShape,
  params: Readonly<Record<string, number | undefined>>,
): LossGraph {
  const backend = new ShapeBackend();
  setBackend(backend);
  const ids = new Map<Tensor | IndexTensor, number>();
  let next = 0;
  const y = new Tensor(backend, backend.zeros(shape.rows * shape.outDim), [shape.rows, shape.outDim]);
  const anchors = new Tensor(backend, backend.zeros(shape.rows * shape.inDim), [shape.rows, shape.inDim]);
  ids.set(y, next++);
  ids.set(anchors, next++);
  const nodes: GraphNode[] = [];

  const arg = (v: unknown, where: string): GraphArg => {
    if (v === undefined) return { undefined: true };
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new TraceError(`${where}: ${v} is not a finite number`);
      return v;
    }
    if (v instanceof Tensor || v instanceof IndexTensor) {
      const id = ids.get(v);
      if (id === undefined) throw new TraceError(`${where}: a tensor that did not come from batch or ops`);
      return v instanceof Tensor ? { tensor: id } : { index: id };
    }
    if (v instanceof Float32Array || v instanceof Float64Array) {
      return { floats: Array.from(v, (x) => Number(arg(x, where))) };
    }
    if (v instanceof Int32Array) return { ints: Array.from(v) };
    if (Array.isArray(v)) return { list: v.map((x, i) => arg(x, `${where}[${i}]`)) };
    if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      return {
        record: Object.fromEntries(
          Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, arg(x, `${where}.${k}`)]),
        ),
      };
    }
    throw new TraceError(`${where}: ${Object.prototype.toString.call(v)} cannot be an op argument`);
  };
  const out = (v: unknown, op: string): GraphOut => {
    if (v instanceof Tensor) return ids.set(v, next), { tensor: next++ };
    if (v instanceof IndexTensor) return ids.set(v, next), { index: next++ };
    const entries = Object.entries(v as Record<string, unknown>);
    return { record: Object.fromEntries(entries.map(([k, x]) => [k, out(x, op)])) };
  };
  const record = (op: GraphNode["op"], args: unknown[], result: unknown) => {
    nodes.push({ op, args: args.map((a, i) => arg(a, `ops.${op} argument ${i + 1}`)), out: out(result, op) });
    return result;
  };

  const ops: Record<string, (...args: never[]) => unknown> = {};
  for (const [name, fn] of Object.entries(TENSOR_OPS)) {
    ops[name] = (...args: unknown[]) => {
      const args2 = args.slice();
      return record(name as GraphNode["op"], args2, (fn as (...a: unknown[]) => unknown)(...args2));
    };
  }
  for (const [name, { fn, backendArg }] of Object.entries(CREATION_OPS)) {
    ops[name] = (...args: unknown[]) => {
      const given = args.slice(0, backendArg);
      if (name === "tensor" && args[2] !== undefined) {
        const { backend: _b, ...opts } = args[2] as Record<string, unknown>;
        given[2] = opts;
      }
      return record(name as GraphNode["op"], given, (fn as (...a: unknown[]) => unknown)(...given));
    };
  }
  ops.randomNormal = (rows: unknown, cols: unknown) => {
    const [r, c] = [Number(rows), Number(cols)];
    if (!Number.isInteger(r) || !Number.isInteger(c) || r < 1 || c < 1) {
      throw new TraceError(`ops.randomNormal(${rows}, ${cols}): expected positive integers`);
    }
    return record("randomNormal", [r, c], new Tensor(backend, backend.zeros(r * c), [r, c]));
  };
  ops.randomPermutation = (n: unknown) => {
    const k = Number(n);
    if (!Number.isInteger(k) || k < 1) {
      throw new TraceError(`ops.randomPermutation(${n}): expected a positive integer`);
    }
    return record(
      "randomPermutation",
      [k],
      new IndexTensor(backend, backend.uploadIndex(new Int32Array(k)), [k, 1]),
    );
  };
  if (
    Object.keys(ops).length !==
      Object.keys(TENSOR_OPS).length + Object.keys(CREATION_OPS).length + RANDOM_OPS.length
  ) {
    throw new Error("trace_process: the ops object does not match ops_table.ts");
  }

  const batch = Object.freeze({
    y,
    anchors,
    views: shape.views,
    seed: opaque("batch.seed"),
    step: opaque("batch.step"),
  });
  const result = loss(batch, Object.freeze({ ...params }), Object.freeze(ops));
  if (result instanceof Promise) {
    throw new TraceError("loss returned a Promise; it must return a tensor synchronously");
  }
  if (!(result instanceof Tensor) || !ids.has(result)) {
    throw new TraceError(
      `loss returned ${Object.prototype.toString.call(result)}; expected a [1, 1] tensor made by ops`,
    );
  }
  if (result.rows !== 1 || result.cols !== 1) {
    throw new TraceError(`loss returned a [${result.rows}, ${result.cols}] tensor; expected a scalar [1, 1]`);
  }
  return { nodes, output: ids.get(result)! };
}

function describe(e: unknown): { kind: "sandbox" | "trace" | "throw"; message: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err.name === "NotCapable" || /Requires \w+ access/.test(err.message)) {
    // Deno's hint to grant the permission does not apply: a method file never gets one.
    return {
      kind: "sandbox",
      message: err.message.split("\n")[0].replace(/, run again with the --allow-\w+ flag/, ""),
    };
  }
  if (err.name === "TraceError") return { kind: "trace", message: err.message };
  if (err.name === "EvalError") {
    return { kind: "sandbox", message: `evaluating code from strings: ${err.message}` };
  }
  return { kind: "throw", message: `${err.name}: ${err.message.split("\n")[0]}` };
}

/** The first error the file caused outside a call (an unawaited fetch, a rejected promise). */
let stray: unknown = undefined;
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  stray ??= e.reason;
});
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  stray ??= e.error;
});

/** Lets pending promise reactions and timers of the file run, then reports what they threw. */
async function settle(reply: TraceReply): Promise<TraceReply> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  return stray === undefined ? reply : { ok: false, ...describe(stray) };
}

let loss: Parameters<typeof trace>[0] | undefined;

async function handle(request: TraceRequest): Promise<TraceReply> {
  if (request.kind === "trace") {
    try {
      if (!loss) throw new Error("trace_process: trace before load");
      return await settle({ ok: true, graphs: request.shapes.map((s) => trace(loss!, s, request.params)) });
    } catch (err) {
      return { ok: false, ...describe(err instanceof Promise ? await err : err) };
    }
  }
  let mod: { default?: unknown };
  try {
    mod = await import(request.url);
  } catch (err) {
    return { ok: false, ...describe(err) };
  }
  const def = mod.default as Record<string, unknown> | undefined;
  if (!def || typeof def !== "object" || typeof def.loss !== "function") {
    return {
      ok: false,
      kind: "definition",
      message: "the default export must be a loss definition object with a loss(batch, params, ops) function",
    };
  }
  try {
    // Only plain data crosses back: the fields are copied through JSON.
    const { loss: fn, ...fields } = def;
    const definition = JSON.parse(JSON.stringify(fields));
    loss = fn as Parameters<typeof trace>[0];
    return await settle({ ok: true, definition });
  } catch (err) {
    return { ok: false, ...describe(err) };
  }
}

// Refuse to run at all unless the permissions really are denied.
const granted = PERMISSIONS.filter((name) => Deno.permissions.querySync({ name }).state === "granted");
harden();
const stdout = Deno.stdout;
let nonce: string | undefined;
let buffered = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  let end: number;
  while ((end = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, end);
    buffered = buffered.slice(end + 1);
    if (nonce === undefined) {
      nonce = line;
      continue;
    }
    const reply: TraceReply = granted.length
      ? {
        ok: false,
        kind: "unsandboxed",
        message: `the sandbox process was granted ${
          granted.join(", ")
        } access; refusing to run a method file`,
      }
      : await handle(JSON.parse(line) as TraceRequest);
    let bytes = new TextEncoder().encode(`${nonce} ${JSON.stringify(reply)}\n`);
    while (bytes.length) bytes = bytes.subarray(stdout.writeSync(bytes));
  }
}

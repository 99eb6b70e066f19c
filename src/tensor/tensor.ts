/**
 * Tensor handles, the reverse-mode tape, and memory scopes. Ops live in `ops.ts`; this file only
 * holds what every op shares: the handle types, the default backend, `tidy` and `grad`.
 */
import { TensorError } from "../errors.ts";
import type { Backend, Shape, Storage } from "./backend.ts";

/** How to compute the gradients of an op's inputs from the gradient of its output. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where the input needs none). */
  backward(gradOut: Tensor): (Tensor | null)[];
}

let defaultBackend: Backend | null = null;
let gradEnabled = true;
const scopes: Set<Tensor | IndexTensor>[] = [];

/** Sets the backend that creation ops use when none is given. */
export function setBackend(backend: Backend): void {
  defaultBackend = backend;
}

/** The backend set by `setBackend`; throws if none was set. */
export function getBackend(): Backend {
  if (!defaultBackend) {
    throw new TensorError("getBackend", "no backend set; call setBackend(await selectBackend(...))");
  }
  return defaultBackend;
}

function track(t: Tensor | IndexTensor): void {
  const scope = scopes[scopes.length - 1];
  if (scope) scope.add(t);
}

export function shapeStr(shape: Shape): string {
  return `[${shape[0]}, ${shape[1]}]`;
}

/** A 2-D float32 tensor on one backend, possibly carrying a gradient node. */
export class Tensor {
  #disposed = false;
  requiresGrad: boolean;
  node: GradNode | null;

  constructor(
    readonly backend: Backend,
    readonly storage: Storage,
    readonly shape: Shape,
    requiresGrad = false,
    node: GradNode | null = null,
  ) {
    this.requiresGrad = requiresGrad;
    this.node = node;
    track(this);
  }

  get rows(): number {
    return this.shape[0];
  }
  get cols(): number {
    return this.shape[1];
  }
  get size(): number {
    return this.shape[0] * this.shape[1];
  }
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Copies the values to the host. */
  toArray(): Promise<Float32Array> {
    this.assertLive("toArray");
    return this.backend.read(this.storage);
  }

  /** Synchronous copy to the host; only on backends that can (cpu). */
  toArraySync(): Float32Array {
    this.assertLive("toArraySync");
    if (!this.backend.readSync) {
      throw new TensorError(
        "toArraySync",
        `backend ${this.backend.name} reads asynchronously; use toArray()`,
      );
    }
    return this.backend.readSync(this.storage);
  }

  /**
   * The values without a copy where the backend holds them on the host (cpu), else a copy
   * (`toArraySync`): read-only, and only until this tensor is disposed.
   */
  viewSync(): Float32Array {
    this.assertLive("viewSync");
    return this.backend.viewSync ? this.backend.viewSync(this.storage) : this.toArraySync();
  }

  /** The single value of a [1, 1] tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new TensorError("item", `expected a [1, 1] tensor, got ${shapeStr(this.shape)}`);
    }
    return (await this.toArray())[0];
  }

  /** Frees device memory now; later use throws. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.node = null;
    this.backend.dispose(this.storage);
  }

  assertLive(op: string): void {
    if (this.#disposed) throw new TensorError(op, `tensor ${shapeStr(this.shape)} was disposed`);
  }

  toString(): string {
    return `Tensor${shapeStr(this.shape)}(${this.backend.name}${this.requiresGrad ? ", grad" : ""})`;
  }
}

/**
 * A 2-D int32 tensor of indices (sort permutations, labels, gather indices). Index tensors made
 * from host data keep that data, so ops can check index ranges before launching work.
 */
export class IndexTensor {
  #disposed = false;
  constructor(
    readonly backend: Backend,
    readonly storage: Storage,
    readonly shape: Shape,
    readonly host: Int32Array | null = null,
  ) {
    track(this);
  }
  get size(): number {
    return this.shape[0] * this.shape[1];
  }
  get disposed(): boolean {
    return this.#disposed;
  }
  toArray(): Promise<Int32Array> {
    if (this.#disposed) throw new TensorError("toArray", `index tensor ${shapeStr(this.shape)} was disposed`);
    return this.host ? Promise.resolve(this.host.slice()) : this.backend.readIndex(this.storage);
  }
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.backend.dispose(this.storage);
  }
}

/** Whether ops currently record gradient nodes. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording gradient nodes (inference, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const saved = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = saved;
  }
}

type Kept =
  | Tensor
  | IndexTensor
  | Kept[]
  | { [k: string]: Kept }
  | number
  | string
  | boolean
  | null
  | undefined;

function collect(value: unknown, out: Set<unknown>): void {
  if (value instanceof Tensor || value instanceof IndexTensor) out.add(value);
  else if (Array.isArray(value)) { for (const v of value) collect(v, out); }
  else if (value && typeof value === "object") { for (const v of Object.values(value)) collect(v, out); }
}

/**
 * Runs `fn` and disposes every tensor it created except those reachable from its result
 * (which move to the enclosing scope). Keeps GPU memory flat across training steps.
 */
export function tidy<T extends Kept>(fn: () => T): T {
  const scope = new Set<Tensor | IndexTensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const keep = new Set<unknown>();
  collect(result, keep);
  for (const t of scope) {
    if (keep.has(t)) track(t);
    else t.dispose();
  }
  return result;
}

/** Keeps `t` alive beyond the current `tidy` scope. */
export function keep<T extends Tensor | IndexTensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

/** Creates a tensor on `backend` from an op's output storage, recording `node` if needed. */
export function result(
  backend: Backend,
  storage: Storage,
  shape: Shape,
  inputs: readonly Tensor[],
  op: string,
  backward: (g: Tensor) => (Tensor | null)[],
): Tensor {
  const needs = gradEnabled && inputs.some((t) => t.requiresGrad);
  return new Tensor(backend, storage, shape, needs, needs ? { op, inputs, backward } : null);
}

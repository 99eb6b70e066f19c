/**
 * A backend that holds shapes and no values, for tracing a method file: every op of
 * src/tensor/ops.ts runs on it with its own shape checks and error messages, and nothing is
 * computed. Reading a value back throws a TraceError, since a value read while tracing is control
 * flow that depends on data, which a static op graph cannot express.
 */
import type { Backend, Shape, Storage } from "../../tensor/backend.ts";

/** A method file did something a traced graph cannot record. */
export class TraceError extends Error {
  override name = "TraceError";
}

const storage = (length: number): Storage => ({ length });

function noValues(): never {
  throw new TraceError(
    "a tensor's values were read while tracing: the loss must be a static graph of ops " +
      "(no control flow that depends on tensor values)",
  );
}

export class ShapeBackend implements Backend {
  readonly name = "cpu" as const;
  readonly device = "shapes only (tracing)";
  upload = (data: Float32Array) => storage(data.length);
  uploadIndex = (data: Int32Array) => storage(data.length);
  zeros = (length: number) => storage(length);
  read = (): Promise<Float32Array> => Promise.reject(noValues());
  readIndex = (): Promise<Int32Array> => Promise.reject(noValues());
  readSync = (): Float32Array => noValues();
  dispose(): void {}
  sync = () => Promise.resolve();
  matmul = (_a: Storage, aShape: Shape, _b: Storage, bShape: Shape, transA: boolean, transB: boolean) =>
    storage((transA ? aShape[1] : aShape[0]) * (transB ? bShape[0] : bShape[1]));
  unary = (_op: string, _a: Storage, length: number) => storage(length);
  binary = (_op: string, _a: Storage, _as: Shape, _b: Storage, _bs: Shape, out: Shape) =>
    storage(out[0] * out[1]);
  sum = (_a: Storage, shape: Shape, axis: 0 | 1) => storage(axis === 0 ? shape[1] : shape[0]);
  max = (_a: Storage, shape: Shape, axis: 0 | 1) => {
    const n = axis === 0 ? shape[1] : shape[0];
    return { values: storage(n), indices: storage(n) };
  };
  logsumexp = (_a: Storage, shape: Shape) => storage(shape[0]);
  sortRows = (_a: Storage, shape: Shape) => ({
    values: storage(shape[0] * shape[1]),
    indices: storage(shape[0] * shape[1]),
  });
  gatherRows = (_a: Storage, shape: Shape, _idx: Storage, n: number) => storage(n * shape[1]);
  scatterAddRows = (_s: Storage, shape: Shape, _idx: Storage, rows: number) => storage(rows * shape[1]);
  gatherElems = (_a: Storage, shape: Shape, _idx: Storage, k: number) => storage(shape[0] * k);
  scatterAddElems = (_s: Storage, shape: Shape, _idx: Storage, cols: number) => storage(shape[0] * cols);
  transpose = (_a: Storage, shape: Shape) => storage(shape[0] * shape[1]);
  copyBlock(): void {}
  adamw(): void {}
}

/**
 * The differentiable op set, written once on top of the backend primitives. Every op validates
 * its inputs (shapes, backends, index ranges) and throws a `TensorError` that names the op, the
 * shapes and what was expected, before any work is launched.
 */
import { TensorError } from "../errors.ts";
import type { Backend, BinaryOp, Shape, UnaryOp } from "./backend.ts";
import { productDims } from "./backend.ts";
import { getBackend, IndexTensor, keep, result, shapeStr, Tensor } from "./tensor.ts";
import { reluGradWithColumnSums, sqDistFromGram } from "./fused_ops.ts";

// ---- validation helpers ------------------------------------------------------------------

function live(op: string, ...ts: (Tensor | IndexTensor)[]): Backend {
  const backend = ts[0].backend;
  for (const t of ts) {
    if (t.disposed) throw new TensorError(op, `input ${shapeStr(t.shape)} was disposed`);
    if (t.backend !== backend) {
      throw new TensorError(op, `inputs live on different backends (${backend.name} and ${t.backend.name})`);
    }
  }
  return backend;
}

function checkDims(op: string, shape: Shape): void {
  const [r, c] = shape;
  if (!Number.isInteger(r) || !Number.isInteger(c) || r < 0 || c < 0) {
    throw new TensorError(op, `invalid shape ${shapeStr(shape)}; expected non-negative integer [rows, cols]`);
  }
}

function checkIndexRange(op: string, idx: IndexTensor, bound: number, what: string): void {
  if (!idx.host) return; // device-made indices (e.g. from sortRows) are in range by construction
  for (let i = 0; i < idx.host.length; i++) {
    const v = idx.host[i];
    if (v < 0 || v >= bound) {
      throw new TensorError(
        op,
        `index ${v} at position ${i} is out of range; expected ${what} in [0, ${bound})`,
      );
    }
  }
}

/** The broadcast shape of two operands, or a TensorError naming both shapes. */
export function broadcastShape(op: string, a: Shape, b: Shape): Shape {
  const dim = (x: number, y: number): number => {
    if (x === y || y === 1) return x;
    if (x === 1) return y;
    throw new TensorError(
      op,
      `cannot broadcast ${shapeStr(a)} with ${
        shapeStr(b)
      }; expected equal dims or 1 (row/column vector/scalar)`,
    );
  };
  return [dim(a[0], b[0]), dim(a[1], b[1])];
}

// ---- creation --------------------------------------------------------------------------

export interface TensorOptions {
  backend?: Backend;
  requiresGrad?: boolean;
  /** Accept NaN and ±Infinity in the data (rejected by default: they poison training). */
  allowNonFinite?: boolean;
}

/** A tensor from host data: a flat Float32Array/number[] with a shape, or nested rows. */
export function tensor(
  data: Float32Array | number[] | number[][],
  shape?: Shape,
  opts: TensorOptions = {},
): Tensor {
  let flat: Float32Array;
  let sh: Shape;
  if (Array.isArray(data) && Array.isArray(data[0])) {
    const rows = data as number[][];
    const c = rows[0].length;
    rows.forEach((row, i) => {
      if (row.length !== c) {
        throw new TensorError("tensor", `row ${i} has ${row.length} values; expected ${c} like row 0`);
      }
    });
    flat = new Float32Array(rows.flat());
    sh = shape ?? [rows.length, c];
  } else {
    flat = data instanceof Float32Array ? data : new Float32Array(data as number[]);
    sh = shape ?? [1, flat.length];
  }
  checkDims("tensor", sh);
  if (sh[0] * sh[1] !== flat.length) {
    throw new TensorError(
      "tensor",
      `shape ${shapeStr(sh)} needs ${sh[0] * sh[1]} values, got ${flat.length}`,
    );
  }
  if (!opts.allowNonFinite) {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isFinite(flat[i])) {
        const row = Math.floor(i / sh[1]), col = i % sh[1];
        throw new TensorError(
          "tensor",
          `value ${flat[i]} at row ${row}, col ${col} of ${
            shapeStr(sh)
          } is not finite; expected finite values ` +
            `(pass allowNonFinite to accept it)`,
        );
      }
    }
  }
  const backend = opts.backend ?? getBackend();
  return new Tensor(backend, backend.upload(flat), sh, opts.requiresGrad ?? false);
}

/** A trainable leaf tensor (requiresGrad = true). */
export function param(data: Float32Array, shape: Shape, backend?: Backend): Tensor {
  return tensor(data, shape, { backend, requiresGrad: true });
}

export function zeros(shape: Shape, backend: Backend = getBackend()): Tensor {
  checkDims("zeros", shape);
  return new Tensor(backend, backend.zeros(shape[0] * shape[1]), shape);
}

export function full(shape: Shape, value: number, backend: Backend = getBackend()): Tensor {
  const z = zeros(shape, backend);
  const out = new Tensor(backend, backend.unary("shift", z.storage, z.size, value), shape);
  z.dispose();
  return out;
}

/** An int32 index tensor from host data (default shape [n, 1]). */
export function indexTensor(
  data: Int32Array | number[],
  shape?: Shape,
  backend: Backend = getBackend(),
): IndexTensor {
  const host = data instanceof Int32Array ? data : Int32Array.from(data);
  if (!(data instanceof Int32Array)) {
    (data as number[]).forEach((v, i) => {
      if (!Number.isInteger(v)) throw new TensorError("indexTensor", `value ${v} at ${i} is not an integer`);
    });
  }
  const sh: Shape = shape ?? [host.length, 1];
  checkDims("indexTensor", sh);
  if (sh[0] * sh[1] !== host.length) {
    throw new TensorError(
      "indexTensor",
      `shape ${shapeStr(sh)} needs ${sh[0] * sh[1]} values, got ${host.length}`,
    );
  }
  return new IndexTensor(backend, backend.uploadIndex(host), sh, host);
}

/** Throws naming `what` if `t` holds NaN or ±Infinity (e.g. features from a backbone). */
export async function assertFinite(t: Tensor, what: string): Promise<void> {
  const data = await t.toArray();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new TensorError(
        "assertFinite",
        `${what}: value ${data[i]} at row ${Math.floor(i / t.cols)}, col ${i % t.cols} of ${
          shapeStr(t.shape)
        }; expected finite values`,
      );
    }
  }
}

// ---- elementwise -----------------------------------------------------------------------

function unaryOp(
  name: string,
  op: UnaryOp,
  x: Tensor,
  param: number | undefined,
  backward: (g: Tensor, y: Tensor) => Tensor,
): Tensor {
  const backend = live(name, x);
  // deno-lint-ignore prefer-const
  let y: Tensor;
  y = result(
    backend,
    backend.unary(op, x.storage, x.size, param),
    x.shape,
    [x],
    name,
    (g) => [backward(g, y)],
  );
  return y;
}

export function neg(x: Tensor): Tensor {
  return unaryOp("neg", "neg", x, undefined, (g) => neg(g));
}
export function relu(x: Tensor): Tensor {
  return unaryOp("relu", "relu", x, undefined, (g) => reluGrad(g, x));
}
/**
 * relu(x + bias) for x [r, c] and bias [1, c] (a hidden layer's bias and activation): one pass and
 * no pre-activation tensor where the backend fuses it, else `relu(add(x, bias))`; the same values
 * and gradients either way (relu's gradient is read off the output: step(relu(z)) = step(z)).
 */
export function biasRelu(x: Tensor, bias: Tensor): Tensor {
  const backend = live("biasRelu", x, bias);
  if (bias.rows !== 1 || bias.cols !== x.cols) {
    throw new TensorError(
      "biasRelu",
      `x ${shapeStr(x.shape)}, bias ${shapeStr(bias.shape)}; expected a bias [1, ${x.cols}]`,
    );
  }
  if (!backend.biasRelu) return relu(add(x, bias));
  // deno-lint-ignore prefer-const
  let y: Tensor;
  y = result(
    backend,
    backend.biasRelu(x.storage, x.shape, bias.storage),
    x.shape,
    [x, bias],
    "biasRelu",
    (g) => {
      const fused = bias.requiresGrad ? reluGradWithColumnSums(g, y) : null;
      const gz = fused ? fused[0] : reluGrad(g, y);
      return [x.requiresGrad ? gz : null, bias.requiresGrad ? fused?.[1] ?? sum(gz, 0) : null];
    },
  );
  return y;
}
/** g · step(t) (relu's gradient at t), not recorded: one pass where the backend fuses it. */
function reluGrad(g: Tensor, t: Tensor): Tensor {
  const backend = live("reluGrad", g, t);
  if (!backend.reluGrad) return mul(g, step(t));
  return new Tensor(backend, backend.reluGrad(g.storage, t.storage, g.size), g.shape);
}
/** 1 where x > 0, else 0. Not differentiable (its gradient is zero almost everywhere). */
export function step(x: Tensor): Tensor {
  const backend = live("step", x);
  return new Tensor(backend, backend.unary("step", x.storage, x.size), x.shape);
}
/** sign(x) in {-1, 0, 1}; gradient zero. */
export function sign(x: Tensor): Tensor {
  const backend = live("sign", x);
  return new Tensor(backend, backend.unary("sign", x.storage, x.size), x.shape);
}
export function exp(x: Tensor): Tensor {
  return unaryOp("exp", "exp", x, undefined, (g, y) => mul(g, y));
}
export function log(x: Tensor): Tensor {
  return unaryOp("log", "log", x, undefined, (g) => div(g, x));
}
export function sqrt(x: Tensor): Tensor {
  return unaryOp("sqrt", "sqrt", x, undefined, (g, y) => div(mul(g, 0.5), y));
}
export function abs(x: Tensor): Tensor {
  return unaryOp("abs", "abs", x, undefined, (g) => mul(g, sign(x)));
}
/** x ** p for a scalar exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  if (!Number.isFinite(p)) throw new TensorError("pow", `exponent ${p} is not finite`);
  return unaryOp("pow", "pow", x, p, (g) => (p === 1 ? g : mul(g, mul(pow(x, p - 1), p))));
}
export function square(x: Tensor): Tensor {
  return pow(x, 2);
}
/** The least positive normal float32. */
const FLOAT32_MIN_NORMAL = 2 ** -126;
/**
 * x^(1/p) for x ≥ 0 and p ≥ 1 (the root of a p-norm or a sliced Wasserstein distance), with a zero
 * gradient at x = 0: the subgradient a norm has there (as PyTorch's `norm`), where pow's gradient
 * is ∞ · 0 = NaN. Wherever x is a normal float the value and gradient are pow(x, 1/p)'s, bit for bit.
 */
export function root(x: Tensor, p: number): Tensor {
  if (!Number.isFinite(p) || p < 1) throw new TensorError("root", `p = ${p}; expected a finite p ≥ 1`);
  const e = 1 / p;
  return unaryOp("root", "pow", x, e, (g) => {
    if (e === 1) return g;
    // pow's gradient on a base kept normal, so that x = 0 gives a finite value for step(x) to zero.
    const base = maximum(x, full(x.shape, FLOAT32_MIN_NORMAL, x.backend));
    return mul(g, mul(mul(pow(base, e - 1), e), step(x)));
  });
}

/** Sums `g` down to `shape` (the gradient of a broadcast). */
function unbroadcast(g: Tensor, shape: Shape): Tensor {
  let out = g;
  if (shape[0] === 1 && out.rows !== 1) out = sum(out, 0);
  if (shape[1] === 1 && out.cols !== 1) out = sum(out, 1);
  return out;
}

function scalarOp(name: string, op: UnaryOp, x: Tensor, c: number, backward: (g: Tensor) => Tensor): Tensor {
  if (!Number.isFinite(c)) throw new TensorError(name, `scalar operand ${c} is not finite`);
  return unaryOp(name, op, x, c, backward);
}

function binaryOp(
  name: string,
  op: BinaryOp,
  a: Tensor,
  b: Tensor,
  backward: (g: Tensor) => [Tensor | null, Tensor | null],
): Tensor {
  const backend = live(name, a, b);
  const shape = broadcastShape(name, a.shape, b.shape);
  return result(
    backend,
    backend.binary(op, a.storage, a.shape, b.storage, b.shape, shape),
    shape,
    [a, b],
    name,
    (g) => {
      const [ga, gb] = backward(g);
      return [
        ga && a.requiresGrad ? unbroadcast(ga, a.shape) : null,
        gb && b.requiresGrad ? unbroadcast(gb, b.shape) : null,
      ];
    },
  );
}

function scalarTensor(value: number, like: Tensor): Tensor {
  return tensor(new Float32Array([value]), [1, 1], { backend: like.backend });
}

/** a + b with broadcasting; either may be a number. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === "number") {
    if (typeof b === "number") throw new TensorError("add", "expected at least one tensor operand");
    return add(b, a);
  }
  if (typeof b === "number") return scalarOp("add", "shift", a, b, (g) => g);
  return binaryOp("add", "add", a, b, (g) => [g, g]);
}
/** a − b with broadcasting; either may be a number. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === "number") {
    if (typeof b === "number") throw new TensorError("sub", "expected at least one tensor operand");
    return add(neg(b), a);
  }
  if (typeof b === "number") return add(a, -b);
  return binaryOp("sub", "sub", a, b, (g) => [g, neg(g)]);
}
/** a · b elementwise with broadcasting; either may be a number. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === "number") {
    if (typeof b === "number") throw new TensorError("mul", "expected at least one tensor operand");
    return mul(b, a);
  }
  if (typeof b === "number") return scalarOp("mul", "scale", a, b, (g) => mul(g, b));
  return binaryOp(
    "mul",
    "mul",
    a,
    b,
    (g) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null],
  );
}
/** a / b elementwise with broadcasting; either may be a number. */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === "number") {
    if (typeof b === "number") throw new TensorError("div", "expected at least one tensor operand");
    return div(scalarTensor(a, b), b);
  }
  if (typeof b === "number") {
    if (b === 0) throw new TensorError("div", "division by the scalar 0");
    return mul(a, 1 / b);
  }
  return binaryOp("div", "div", a, b, (g) => [
    a.requiresGrad ? div(g, b) : null,
    b.requiresGrad ? neg(div(mul(g, a), mul(b, b))) : null,
  ]);
}
/** Elementwise maximum; on ties the gradient goes to b. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return binaryOp("maximum", "max", a, b, (g) => {
    const m = step(sub(a, b));
    return [mul(g, m), mul(g, sub(1, m))];
  });
}
/** Elementwise minimum; on ties the gradient goes to b. */
export function minimum(a: Tensor, b: Tensor): Tensor {
  return binaryOp("minimum", "min", a, b, (g) => {
    const m = step(sub(b, a));
    return [mul(g, m), mul(g, sub(1, m))];
  });
}

// ---- matmul ----------------------------------------------------------------------------

/** op(a) · op(b), where op transposes when the flag is set. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const backend = live("matmul", a, b);
  const [m, n] = productShape("matmul", a, b, transA, transB);
  const storage = backend.matmul(a.storage, a.shape, b.storage, b.shape, transA, transB);
  return result(backend, storage, [m, n], [a, b], "matmul", (g) => [
    a.requiresGrad ? (transA ? matmul(b, g, transB, true) : matmul(g, b, false, !transB)) : null,
    b.requiresGrad ? (transB ? matmul(g, a, true, transA) : matmul(a, g, !transA, false)) : null,
  ]);
}

/**
 * transpose(matmul(a, b, transA, transB)) ([n, m]): the same values and gradients, without the
 * [m, n] product where the backend computes the transposed one directly.
 */
export function matmulTransposed(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const backend = live("matmulTransposed", a, b);
  if (!backend.matmulTransposed) return transpose(matmul(a, b, transA, transB));
  const [m, n] = productShape("matmulTransposed", a, b, transA, transB);
  const storage = backend.matmulTransposed(a.storage, a.shape, b.storage, b.shape, transA, transB);
  return result(
    backend,
    storage,
    [n, m],
    [a, b],
    "matmulTransposed",
    (g) => transposedGrads(a, b, transA, transB, g),
  );
}

/**
 * matmul's gradients (its four products above) for the product's gradient stored transposed (g,
 * [n, m]): each product takes g as it is stored, its flag flipped, where the backend rounds that
 * alike (`matmulFlagsRoundAlike`), else transpose(g) as the composition's backward does.
 */
function transposedGrads(
  a: Tensor,
  b: Tensor,
  transA: boolean,
  transB: boolean,
  g: Tensor,
): (Tensor | null)[] {
  const [m, k, n] = productDims(a.shape, b.shape, transA, transB);
  const alike = (
    rows: number,
    cols: number,
    inner: number,
    tA: boolean,
    tB: boolean,
    tA2: boolean,
    tB2: boolean,
  ) => g.backend.matmulFlagsRoundAlike?.(rows, cols, inner, tA, tB, tA2, tB2) ?? false;
  let product: Tensor | null = null;
  const gProduct = () => (product ??= transpose(g));
  let da: Tensor | null = null, db: Tensor | null = null;
  if (a.requiresGrad) {
    if (transA) {
      da = alike(k, m, n, transB, true, transB, false)
        ? matmul(b, g, transB, false)
        : matmul(b, gProduct(), transB, true);
    } else {
      da = alike(m, k, n, false, !transB, true, !transB)
        ? matmul(g, b, true, !transB)
        : matmul(gProduct(), b, false, !transB);
    }
  }
  if (b.requiresGrad) {
    if (transB) {
      db = alike(n, k, m, true, transA, false, transA)
        ? matmul(g, a, false, transA)
        : matmul(gProduct(), a, true, transA);
    } else {
      db = alike(k, n, m, !transA, false, !transA, true)
        ? matmul(a, g, !transA, true)
        : matmul(a, gProduct(), !transA, false);
    }
  }
  return [da, db];
}

/** [rows of op(a), cols of op(b)]; throws when the inner dimensions differ. */
function productShape(op: string, a: Tensor, b: Tensor, transA: boolean, transB: boolean): [number, number] {
  const [m, ka, n] = productDims(a.shape, b.shape, transA, transB);
  const kb = transB ? b.cols : b.rows;
  if (ka !== kb) {
    throw new TensorError(
      op,
      `inner dimensions differ: a is ${shapeStr(a.shape)}${transA ? " transposed" : ""}, b is ${
        shapeStr(b.shape)
      }${transB ? " transposed" : ""}; expected op(a)'s cols (${ka}) to equal op(b)'s rows (${kb})`,
    );
  }
  return [m, n];
}

// ---- reductions ------------------------------------------------------------------------

/** Broadcasts a row vector [1, c], column vector [r, 1] or scalar to `shape`. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const out = broadcastShape("expand", x.shape, shape);
  if (out[0] !== shape[0] || out[1] !== shape[1]) {
    throw new TensorError(
      "expand",
      `cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}; expected a target at least as large`,
    );
  }
  if (x.rows === shape[0] && x.cols === shape[1]) return mul(x, 1);
  const z = zeros(
    shape[0] === x.rows ? [1, shape[1]] : [shape[0], shape[1] === x.cols ? 1 : shape[1]],
    x.backend,
  );
  return add(x, z);
}

/** Sum over an axis (0: over rows → [1, c]; 1: over columns → [r, 1]), or of everything → [1, 1]. */
export function sum(x: Tensor, axis?: 0 | 1): Tensor {
  if (axis === undefined) return sum(sum(x, 1), 0);
  const backend = live("sum", x);
  const shape: Shape = axis === 0 ? [1, x.cols] : [x.rows, 1];
  return result(
    backend,
    backend.sum(x.storage, x.shape, axis),
    shape,
    [x],
    "sum",
    // g + 0, the values `expand(g, x.shape)` holds, left unexpanded: autograd broadcasts it.
    (g) => [add(g, 0)],
  );
}

/** Mean over an axis, or of everything. */
export function mean(x: Tensor, axis?: 0 | 1): Tensor {
  const n = axis === undefined ? x.size : axis === 0 ? x.rows : x.cols;
  if (n === 0) throw new TensorError("mean", `mean over an empty axis of ${shapeStr(x.shape)}`);
  return mul(sum(x, axis), 1 / n);
}

/**
 * Max over an axis with the index of the first maximum. The gradient flows to that index only.
 */
export function max(x: Tensor, axis: 0 | 1): { values: Tensor; indices: IndexTensor } {
  if (axis === 0) {
    // Max over axis 1 of xᵀ. t.values must stay alive (the enclosing tidy frees it): disposing it
    // drops its grad node and cuts the gradient path back to x.
    const t = max(transpose(x), 1);
    const values = transpose(t.values);
    // The indices as [1, c], like the values. The [c, 1] view (used by the backward) shares the
    // storage, which the returned tensor owns.
    keep(t.indices);
    return { values, indices: new IndexTensor(x.backend, t.indices.storage, [1, x.cols]) };
  }
  const backend = live("max", x);
  if (x.cols === 0) throw new TensorError("max", `max over 0 columns of ${shapeStr(x.shape)}`);
  const out = backend.max(x.storage, x.shape, 1);
  const indices = new IndexTensor(backend, out.indices, [x.rows, 1]);
  const values = result(backend, out.values, [x.rows, 1], [x], "max", (g) => [
    scatterAddElems(g, indices, x.cols),
  ]);
  return { values, indices };
}

/** Row-wise log Σ_j exp(x_ij), stable; result [r, 1]. */
export function logsumexp(x: Tensor): Tensor {
  const backend = live("logsumexp", x);
  if (x.cols === 0) throw new TensorError("logsumexp", `logsumexp over 0 columns of ${shapeStr(x.shape)}`);
  // deno-lint-ignore prefer-const
  let y: Tensor;
  y = result(backend, backend.logsumexp(x.storage, x.shape), [x.rows, 1], [x], "logsumexp", (g) => [
    backend.logsumexpGrad
      ? new Tensor(backend, backend.logsumexpGrad(x.storage, x.shape, y.storage, g.storage), x.shape)
      : mul(exp(sub(x, y)), g),
  ]);
  return y;
}

/** Row-wise log-softmax. */
export function logSoftmax(x: Tensor): Tensor {
  return sub(x, logsumexp(x));
}

/**
 * Mean softmax cross-entropy of `logits` [r, k] against integer `labels` ([r, 1], in [0, k)).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: IndexTensor): Tensor {
  live("softmaxCrossEntropy", logits, labels);
  if (labels.size !== logits.rows) {
    throw new TensorError(
      "softmaxCrossEntropy",
      `labels ${shapeStr(labels.shape)} do not match logits ${
        shapeStr(logits.shape)
      }; expected one label per row`,
    );
  }
  const what = `a class label for logits ${shapeStr(logits.shape)}`;
  checkIndexRange("softmaxCrossEntropy", labels, logits.cols, what);
  const picked = gatherElems(logits, labels.shape[1] === 1 ? labels : reshapeIndex(labels, [labels.size, 1]));
  return mean(sub(logsumexp(logits), picked));
}

// ---- sorting, gather, scatter ----------------------------------------------------------

/** Sorts each row ascending (stable); the gradient scatters back through the permutation. */
export function sortRows(x: Tensor): { values: Tensor; indices: IndexTensor } {
  const backend = live("sortRows", x);
  const out = backend.sortRows(x.storage, x.shape);
  const indices = new IndexTensor(backend, out.indices, x.shape);
  const values = result(backend, out.values, x.shape, [x], "sortRows", (g) => [
    scatterAddElems(g, indices, x.cols),
  ]);
  return { values, indices };
}

function flatIndex(op: string, idx: IndexTensor): number {
  if (idx.shape[0] !== 1 && idx.shape[1] !== 1) {
    throw new TensorError(op, `indices ${shapeStr(idx.shape)} must be a vector ([n, 1] or [1, n])`);
  }
  return idx.size;
}

/** out[i, :] = x[idx[i], :]. */
export function gatherRows(x: Tensor, idx: IndexTensor): Tensor {
  const backend = live("gatherRows", x, idx);
  const n = flatIndex("gatherRows", idx);
  checkIndexRange("gatherRows", idx, x.rows, `a row of ${shapeStr(x.shape)}`);
  return result(
    backend,
    backend.gatherRows(x.storage, x.shape, idx.storage, n),
    [n, x.cols],
    [x],
    "gatherRows",
    (
      g,
    ) => [scatterAddRows(g, idx, x.rows)],
  );
}

/** out[r, :] = Σ_{i: idx[i] = r} x[i, :]; result [rows, cols]. */
export function scatterAddRows(x: Tensor, idx: IndexTensor, rows: number): Tensor {
  const backend = live("scatterAddRows", x, idx);
  const n = flatIndex("scatterAddRows", idx);
  if (n !== x.rows) {
    throw new TensorError(
      "scatterAddRows",
      `${n} indices for ${shapeStr(x.shape)}; expected one index per row`,
    );
  }
  const what = `a destination row (scattering ${shapeStr(x.shape)} into ${rows} rows)`;
  checkIndexRange("scatterAddRows", idx, rows, what);
  const storage = backend.scatterAddRows(x.storage, x.shape, idx.storage, rows);
  return result(backend, storage, [rows, x.cols], [x], "scatterAddRows", (g) => [gatherRows(g, idx)]);
}

/** Reorders rows: out[i] = x[perm[i]]; `perm` must be a permutation of 0..rows−1. */
export function permuteRows(x: Tensor, perm: IndexTensor): Tensor {
  if (perm.size !== x.rows) {
    throw new TensorError(
      "permuteRows",
      `permutation of ${perm.size} for ${shapeStr(x.shape)}; expected ${x.rows}`,
    );
  }
  if (perm.host) {
    const seen = new Uint8Array(x.rows);
    for (const v of perm.host) {
      if (v < 0 || v >= x.rows || seen[v]) {
        throw new TensorError(
          "permuteRows",
          `index ${v} repeats or is out of range for ${shapeStr(x.shape)}; expected a permutation of 0..${
            x.rows - 1
          }`,
        );
      }
      seen[v] = 1;
    }
  }
  return gatherRows(x, perm);
}

function checkElemIndex(op: string, x: Tensor, idx: IndexTensor): void {
  if (idx.shape[0] !== x.rows) {
    throw new TensorError(
      op,
      `indices ${shapeStr(idx.shape)} for ${shapeStr(x.shape)}; expected ${x.rows} rows`,
    );
  }
}

/** out[i, j] = x[i, idx[i, j]]. */
export function gatherElems(x: Tensor, idx: IndexTensor): Tensor {
  const backend = live("gatherElems", x, idx);
  checkElemIndex("gatherElems", x, idx);
  checkIndexRange("gatherElems", idx, x.cols, `a column of ${shapeStr(x.shape)}`);
  const k = idx.shape[1];
  return result(
    backend,
    backend.gatherElems(x.storage, x.shape, idx.storage, k),
    [x.rows, k],
    [x],
    "gatherElems",
    (
      g,
    ) => [scatterAddElems(g, idx, x.cols)],
  );
}

/** out[i, idx[i, j]] += x[i, j]; result [rows, cols]. */
export function scatterAddElems(x: Tensor, idx: IndexTensor, cols: number): Tensor {
  const backend = live("scatterAddElems", x, idx);
  if (idx.shape[0] !== x.rows || idx.shape[1] !== x.cols) {
    throw new TensorError(
      "scatterAddElems",
      `indices ${shapeStr(idx.shape)} for values ${shapeStr(x.shape)}; expected the same shape`,
    );
  }
  const what = `a destination column (scattering ${shapeStr(x.shape)} into ${cols} columns)`;
  checkIndexRange("scatterAddElems", idx, cols, what);
  const storage = backend.scatterAddElems(x.storage, x.shape, idx.storage, cols);
  return result(backend, storage, [x.rows, cols], [x], "scatterAddElems", (g) => [gatherElems(g, idx)]);
}

function reshapeIndex(idx: IndexTensor, shape: Shape): IndexTensor {
  const host = idx.host;
  if (!host) throw new TensorError("reshapeIndex", "only host-made index tensors can be reshaped");
  return new IndexTensor(idx.backend, idx.backend.uploadIndex(host), shape, host);
}

// ---- layout ----------------------------------------------------------------------------

export function transpose(x: Tensor): Tensor {
  const backend = live("transpose", x);
  return result(backend, backend.transpose(x.storage, x.shape), [x.cols, x.rows], [x], "transpose", (g) => [
    transpose(g),
  ]);
}

/** Same values, new shape (a copy; rows × cols must match). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const backend = live("reshape", x);
  checkDims("reshape", shape);
  if (shape[0] * shape[1] !== x.size) {
    throw new TensorError(
      "reshape",
      `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}; sizes differ`,
    );
  }
  const out = backend.zeros(x.size);
  backend.copyBlock(x.storage, [1, x.size], 0, 0, out, [1, x.size], 0, 0, 1, x.size);
  return result(backend, out, shape, [x], "reshape", (g) => [reshape(g, x.shape)]);
}

/** Rows [start, end) (axis 0) or columns [start, end) (axis 1). */
export function slice(x: Tensor, axis: 0 | 1, start: number, end: number): Tensor {
  const backend = live("slice", x);
  const len = x.shape[axis];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > len || start > end) {
    throw new TensorError(
      "slice",
      `range [${start}, ${end}) on axis ${axis} of ${shapeStr(x.shape)}; expected 0 ≤ start ≤ end ≤ ${len}`,
    );
  }
  const shape: Shape = axis === 0 ? [end - start, x.cols] : [x.rows, end - start];
  const out = backend.zeros(shape[0] * shape[1]);
  const [r0, c0] = axis === 0 ? [start, 0] : [0, start];
  backend.copyBlock(x.storage, x.shape, r0, c0, out, shape, 0, 0, shape[0], shape[1]);
  return result(backend, out, shape, [x], "slice", (g) => {
    const padded = backend.zeros(x.size);
    backend.copyBlock(g.storage, g.shape, 0, 0, padded, x.shape, r0, c0, shape[0], shape[1]);
    return [new Tensor(backend, padded, x.shape)];
  });
}

/** Stacks tensors along rows (axis 0) or columns (axis 1). */
export function concat(xs: readonly Tensor[], axis: 0 | 1): Tensor {
  if (xs.length === 0) throw new TensorError("concat", "expected at least one tensor");
  const backend = live("concat", ...xs);
  const other = 1 - axis;
  for (const x of xs) {
    if (x.shape[other] !== xs[0].shape[other]) {
      throw new TensorError(
        "concat",
        `shapes ${xs.map((t) => shapeStr(t.shape)).join(", ")} differ on axis ${other}; expected ${
          xs[0].shape[other]
        } everywhere`,
      );
    }
  }
  const total = xs.reduce((s, x) => s + x.shape[axis], 0);
  const shape: Shape = axis === 0 ? [total, xs[0].cols] : [xs[0].rows, total];
  const out = backend.zeros(shape[0] * shape[1]);
  const offsets: number[] = [];
  let off = 0;
  for (const x of xs) {
    offsets.push(off);
    const [r, c] = axis === 0 ? [off, 0] : [0, off];
    backend.copyBlock(x.storage, x.shape, 0, 0, out, shape, r, c, x.rows, x.cols);
    off += x.shape[axis];
  }
  return result(
    backend,
    out,
    shape,
    xs,
    "concat",
    (g) => xs.map((x, i) => (x.requiresGrad ? slice(g, axis, offsets[i], offsets[i] + x.shape[axis]) : null)),
  );
}

// ---- composites ------------------------------------------------------------------------

/** Squared Euclidean distances between the rows of x [n, d] and y [m, d]; result [n, m]. */
export function pairwiseSqDist(x: Tensor, y: Tensor): Tensor {
  if (x.cols !== y.cols) {
    throw new TensorError(
      "pairwiseSqDist",
      `x is ${shapeStr(x.shape)}, y is ${shapeStr(y.shape)}; expected the same number of columns`,
    );
  }
  const xx = sum(square(x), 1);
  const yy = transpose(sum(square(y), 1));
  // Clamp at 0: the expansion can round slightly negative for near-identical rows.
  return sqDistFromGram(xx, yy, matmul(x, y, false, true));
}

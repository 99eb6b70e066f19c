/**
 * Chains of ops that HSIC's Gaussian kernels run on [n, n] matrices every step, as single ops:
 * the same values and gradients, bit for bit, as the chains they stand for (each op's doc names
 * its chain; tests/fused_ops_test.ts compares both). On a backend whose tensors live in host
 * memory (cpu) each is one or two passes over its matrix with no intermediate matrices
 * (src/tensor/backends/cpu_fused.ts), where the chain made four to nine; elsewhere it is the
 * backend's fused primitive where it has one (webgpu: the Gaussian kernel, the diagonal mask),
 * else the chain.
 */
import { add, div, exp, mean, mul, neg, relu, sub, sum, tensor } from "./ops.ts";
import { type Backend } from "./backend.ts";
import { result, shapeStr, Tensor } from "./tensor.ts";
import { TensorError } from "../errors.ts";
import {
  type CenterTerms,
  doubleCenterGradTerms,
  doubleCenterTerms,
  gaussianInto,
  sqDistGradInto,
  total,
} from "./backends/cpu_fused.ts";
import { newFloats, runSplit } from "./backends/cpu_threads.ts";

type HostBackend = Backend & Required<Pick<Backend, "viewSync" | "hostAlloc">>;

/** The inputs' backend when its tensors can be read and written in host memory, else null. */
function host(...ts: Tensor[]): HostBackend | null {
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.disposed) throw new TensorError("fused op", `input ${shapeStr(t.shape)} was disposed`);
    if (t.backend !== b) throw new TensorError("fused op", "inputs live on different backends");
  }
  return b.viewSync && b.hostAlloc ? b as HostBackend : null;
}

/** A new storage of `length` floats on a host backend, filled by `fill`. */
function filled(b: HostBackend, length: number, fill: (out: Float32Array) => void) {
  const { storage, data } = b.hostAlloc(length);
  fill(data);
  return storage;
}

/**
 * relu((xx + yy) + gram·(−2)) for xx [n, 1], yy [1, m], gram [n, m]: the squared distances of
 * `pairwiseSqDist` from the rows' squared norms and their Gram matrix.
 */
export function sqDistFromGram(xx: Tensor, yy: Tensor, gram: Tensor): Tensor {
  const b = host(xx, yy, gram);
  const [n, m] = gram.shape;
  if (xx.rows !== n || xx.cols !== 1 || yy.rows !== 1 || yy.cols !== m) {
    throw new TensorError(
      "sqDistFromGram",
      `xx ${shapeStr(xx.shape)}, yy ${shapeStr(yy.shape)}, gram ${
        shapeStr(gram.shape)
      }; expected [n, 1], [1, m], [n, m]`,
    );
  }
  if (!b) return relu(add(add(xx, yy), mul(gram, -2)));
  const [X, Y, G] = [xx, yy, gram].map((t) => b.viewSync(t.storage));
  const out = filled(b, n * m, (d) => runSplit("sqDist", n, n * m, X, Y, G, m, d));
  // deno-lint-ignore prefer-const
  let y: Tensor;
  y = result(b, out, [n, m], [xx, yy, gram], "sqDistFromGram", (g) => {
    const gg = b.hostAlloc(n * m), gx = b.hostAlloc(n), gy = b.hostAlloc(m);
    sqDistGradInto(b.viewSync(g.storage), b.viewSync(y.storage), n, m, gg.data, gx.data, gy.data);
    return [
      new Tensor(b, gx.storage, [n, 1]),
      new Tensor(b, gy.storage, [1, m]),
      new Tensor(b, gg.storage, [n, m]),
    ];
  });
  return y;
}

/** exp(−(d2 / t)) for squared distances d2 and t [1, 1] (2σ² + ε): a Gaussian kernel matrix. */
export function gaussianOfSqDist(d2: Tensor, t: Tensor): Tensor {
  const b = host(d2, t);
  const device = d2.backend;
  if (!b && device.gaussian && !t.requiresGrad) {
    // deno-lint-ignore prefer-const
    let y: Tensor;
    y = result(
      device,
      device.gaussian(d2.storage, d2.shape, t.storage),
      d2.shape,
      [d2, t],
      "gaussianOfSqDist",
      (g) => [
        // The chain's backward: exp's g·y, neg's, then div's by t.
        div(neg(mul(g, y)), t),
        null,
      ],
    );
    return y;
  }
  if (!b || t.requiresGrad) return exp(neg(div(d2, t)));
  const len = d2.size, tv = b.viewSync(t.storage)[0];
  const d = b.viewSync(d2.storage);
  const out = filled(
    b,
    len,
    (k) =>
      gaussianInto(
        d,
        k,
        d2.rows,
        d2.cols,
        (n) => runSplit("gaussianExp", n, n, d, tv, k),
        () => runSplit("gaussianExpUpper", Math.ceil(d2.rows / 2), len, d, tv, k, d2.rows),
      ),
  );
  // deno-lint-ignore prefer-const
  let y: Tensor;
  y = result(b, out, d2.shape, [d2, t], "gaussianOfSqDist", (g) => {
    const gd = b.hostAlloc(len);
    runSplit("gaussianGrad", len, len, b.viewSync(g.storage), b.viewSync(y.storage), tv, gd.data);
    return [new Tensor(b, gd.storage, d2.shape), null];
  });
  return y;
}

/** The terms' vectors copied where the helper thread can read them (cpu_threads.ts). */
function shared(t: CenterTerms): CenterTerms {
  const copy = (v: Float32Array) => {
    const c = newFloats(v.length);
    c.set(v);
    return c;
  };
  return { rows: copy(t.rows), cols: copy(t.cols), all: t.all };
}

/** Double centring H·K·H of a square matrix: ((k − mean(k, 0)) − mean(k, 1)) + mean(k). */
export function doubleCenter(k: Tensor): Tensor {
  const b = host(k);
  const n = k.rows;
  if (k.cols !== n) throw new TensorError("doubleCenter", `${shapeStr(k.shape)}; expected a square matrix`);
  if (!b) return add(sub(sub(k, mean(k, 0)), mean(k, 1)), mean(k));
  const K = b.viewSync(k.storage);
  const out = filled(b, n * n, (c) => {
    const { rows, cols, all } = shared(doubleCenterTerms(K, n));
    runSplit("doubleCenterRows", n, n * n, K, n, rows, cols, all, c);
  });
  return result(b, out, k.shape, [k], "doubleCenter", (g) => {
    const gk = b.hostAlloc(n * n), G = b.viewSync(g.storage);
    const { rows, cols, all } = shared(doubleCenterGradTerms(G, n));
    runSplit("doubleCenterGradRows", n, n * n, G, n, rows, cols, all, gk.data);
    return [new Tensor(b, gk.storage, k.shape)];
  });
}

/** Σ_ij a_ij·b_ij as [1, 1]: sum(mul(a, b)). */
export function sumOfProducts(a: Tensor, c: Tensor): Tensor {
  const b = host(a, c);
  if (a.rows !== c.rows || a.cols !== c.cols) {
    throw new TensorError(
      "sumOfProducts",
      `${shapeStr(a.shape)} and ${shapeStr(c.shape)}; expected equal shapes`,
    );
  }
  if (!b) return sum(mul(a, c));
  const out = filled(b, 1, (s) => {
    const rows = newFloats(a.rows);
    runSplit("rowProductSums", a.rows, a.size, b.viewSync(a.storage), b.viewSync(c.storage), a.cols, rows);
    s[0] = total(rows);
  });
  return result(b, out, [1, 1], [a, c], "sumOfProducts", (g) => {
    // The gradient reaches the product through two sums' `add(g, 0)`: g + 0.
    const g0 = b.viewSync(g.storage)[0] + 0;
    const times = (x: Tensor) => {
      // v·g0, the unary scale kernel: g0·v in either order.
      const o = b.hostAlloc(x.size);
      runSplit("unary", x.size, x.size, "scale", b.viewSync(x.storage), o.data, g0);
      return new Tensor(b, o.storage, x.shape);
    };
    return [a.requiresGrad ? times(c) : null, c.requiresGrad ? times(a) : null];
  });
}

/**
 * x + mask for a square x, mask `value` on the diagonal and 0 elsewhere: add(x, tensor(mask))
 * without making the mask (an n² array per call).
 */
export function addDiagonal(x: Tensor, value: number): Tensor {
  const b = host(x);
  const n = x.rows;
  if (x.cols !== n) throw new TensorError("addDiagonal", `${shapeStr(x.shape)}; expected a square matrix`);
  if (!b && x.backend.addDiagonal) {
    return result(
      x.backend,
      x.backend.addDiagonal(x.storage, n, value),
      x.shape,
      [x],
      "addDiagonal",
      (g) => [g],
    );
  }
  if (!b) {
    const mask = new Float32Array(n * n);
    for (let a = 0; a < n; a++) mask[a * n + a] = value;
    return add(x, tensor(mask, [n, n], { backend: x.backend }));
  }
  const out = filled(
    b,
    n * n,
    (o) => runSplit("addDiagonal", n, n * n, b.viewSync(x.storage), n, Math.fround(value), o),
  );
  // add's gradient to a full-size operand is g itself.
  return result(b, out, x.shape, [x], "addDiagonal", (g) => [g]);
}

/**
 * A hidden layer's gradients from relu's: g·step(t) and its column sums ([1, c]), as reluGrad and
 * sum(·, 0) give them, in one pass; null where the backend is not a host one (the caller takes
 * the two ops). Not recorded.
 */
export function reluGradWithColumnSums(g: Tensor, t: Tensor): [Tensor, Tensor] | null {
  const b = host(g, t);
  if (!b) return null;
  const [r, c] = g.shape;
  const gz = b.hostAlloc(r * c), sums = b.hostAlloc(c);
  runSplit(
    "reluGradColumnSums",
    c,
    r * c,
    b.viewSync(g.storage),
    b.viewSync(t.storage),
    r,
    c,
    gz.data,
    sums.data,
  );
  return [new Tensor(b, gz.storage, [r, c]), new Tensor(b, sums.storage, [1, c])];
}

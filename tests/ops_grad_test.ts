/**
 * Gradients from `grad()` (float32, on the backend) against central finite differences of the
 * float64 reference forward (`reference.ts`). Each case differentiates the scalar
 * f(x) = Σ op(x) ⊙ R for a fixed random R of op's output shape, so every output element feeds
 * the check with a different weight. All cases run on cpu; those marked `webgpu` run there too
 * and are then compared with cpu directly.
 *
 * Inputs stay ≥ 0.05 away from every kink (relu/abs at 0, max/min/sort ties, sqrt/log at 0), far
 * more than the finite-difference step, so the functions are smooth where they are probed.
 */
import type { Backend, Shape } from "../src/tensor/backend.ts";
import { grad } from "../src/tensor/autograd.ts";
import {
  abs,
  add,
  biasRelu,
  concat,
  div,
  exp,
  expand,
  gatherElems,
  gatherRows,
  indexTensor,
  log,
  logSoftmax,
  logsumexp,
  matmul,
  matmulTransposed,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  pairwiseSqDist,
  permuteRows,
  pow,
  relu,
  reshape,
  scatterAddElems,
  scatterAddRows,
  slice,
  softmaxCrossEntropy,
  sortRows,
  sqrt,
  square,
  sub,
  sum,
  tensor,
  transpose,
} from "../src/tensor/ops.ts";
import type { Tensor } from "../src/tensor/tensor.ts";
import { Mlp } from "../src/nn/mlp.ts";
import { mawaLoss } from "../src/methods/losses/mawa.ts";
import assert from "node:assert/strict";
import * as R from "./reference.ts";
import {
  awayFromZero,
  cpuBackend,
  evaluate,
  ints,
  normals,
  testBackends,
  type Tol,
  twice,
  uniforms,
} from "./helpers.ts";

/**
 * Central-difference step. In float64 the truncation error is ~h²·|f'''| ≈ 1e-12 and the
 * cancellation error ~1e-16·|f|/h ≈ 1e-10, both far below the float32 gradient's own error.
 */
const FD_STEP = 1e-6;
/**
 * |grad_i − fd_i| ≤ GRAD_RTOL·(|fd_i| + GRAD_FLOOR·max_j |fd_j|): 1e-3 relative per element,
 * with an absolute floor of 1e-5 of the largest component for components near 0, where the
 * float32 backward's cancellation (≈ 1e-6 of the operands' magnitude) dominates.
 */
const GRAD_RTOL = 1e-3;
const GRAD_FLOOR = 1e-2;

interface Input {
  shape: Shape;
  data: Float32Array;
}

interface GradCase {
  name: string;
  inputs: Input[];
  /** The op on the backend, from leaf tensors (requiresGrad) of `inputs`. */
  forward: (xs: Tensor[], backend: Backend) => Tensor;
  /** The same function on float64 reference matrices. */
  reference: (xs: R.Mat[]) => R.Mat;
  /** Also run on webgpu (a representative subset does). */
  webgpu?: boolean;
}

function input(label: string, shape: Shape, lo = -1, hi = 1): Input {
  return { shape, data: uniforms(label, shape[0] * shape[1], lo, hi) };
}

/** Values bounded away from 0 (relu, abs, sign kinks). */
function signed(label: string, shape: Shape, lo = 0.1, hi = 1): Input {
  return { shape, data: awayFromZero(label, shape[0] * shape[1], lo, hi) };
}

/** Distinct values per row, ≥ `gap` apart (max, sort): a shuffled ladder plus small noise. */
function distinct(label: string, shape: Shape, gap = 0.1): Input {
  const [r, c] = shape;
  const noise = uniforms(label, r * c, 0, gap / 4);
  const data = new Float32Array(r * c);
  for (let i = 0; i < r; i++) {
    const order = ints(`${label} order ${i}`, c, 1 << 30).map((v, j) => [v, j]).sort((a, b) => a[0] - b[0]);
    order.forEach(([, j], rank) => (data[i * c + j] = (rank - c / 2) * gap + noise[i * c + j]));
  }
  return { shape, data };
}

function toMat(x: Input): R.Mat {
  return R.mat(x.shape[0], x.shape[1], x.data);
}

/** Central differences of f = Σ reference(xs) ⊙ weights with respect to every input element. */
function finiteDifferences(c: GradCase, weights: R.Mat): R.Mat[] {
  const xs = c.inputs.map(toMat);
  const f = () => R.dot(c.reference(xs), weights);
  return xs.map((x) => {
    const g = R.mat(x.rows, x.cols);
    for (let e = 0; e < x.data.length; e++) {
      const v = x.data[e];
      x.data[e] = v + FD_STEP;
      const up = f();
      x.data[e] = v - FD_STEP;
      const down = f();
      x.data[e] = v;
      g.data[e] = (up - down) / (2 * FD_STEP);
    }
    return g;
  });
}

function gradTol(fd: R.Mat): Tol {
  let m = 0;
  for (const v of fd.data) m = Math.max(m, Math.abs(v));
  return { rtol: GRAD_RTOL, atol: GRAD_RTOL * GRAD_FLOOR, scale: new Float64Array(fd.data.length).fill(m) };
}

function gradCase(c: GradCase): void {
  const out = c.reference(c.inputs.map(toMat));
  const outShape: Shape = [out.rows, out.cols];
  const weights = uniforms(`weights ${c.name}`, out.rows * out.cols, -1, 1);
  const rw = R.mat(out.rows, out.cols, weights);
  const fd = finiteDifferences(c, rw);
  const tols = fd.map(gradTol);
  testBackends(
    `grad ${c.name}`,
    async (backend) => {
      const ev = await evaluate(() => {
        const xs = c.inputs.map((x) => tensor(x.data, x.shape, { backend, requiresGrad: true }));
        const y = c.forward(xs, backend);
        if (y.rows !== outShape[0] || y.cols !== outShape[1]) {
          throw new Error(`${c.name}: forward shape [${y.shape}], expected [${outShape}]`);
        }
        const loss = sum(mul(y, tensor(weights, outShape, { backend })));
        return Object.fromEntries(grad(loss, xs).map((g, i) => [`d/d input ${i}`, g]));
      });
      fd.forEach((g, i) =>
        checkGrad(ev.out[`d/d input ${i}`], ev.shape[`d/d input ${i}`], g, tols[i], c.name, i)
      );
      return ev.out;
    },
    { float: GRAD_CROSS, byKey: Object.fromEntries(tols.map((t, i) => [`d/d input ${i}`, twice(t)])) },
    { webgpu: c.webgpu ?? false },
  );
}

const GRAD_CROSS: Tol = { rtol: 2 * GRAD_RTOL, atol: 0 };

function checkGrad(
  got: ArrayLike<number>,
  shape: Shape,
  want: R.Mat,
  tol: Tol,
  name: string,
  i: number,
): void {
  if (shape[0] !== want.rows || shape[1] !== want.cols) {
    throw new Error(`${name}: gradient ${i} has shape [${shape}], expected [${want.rows}, ${want.cols}]`);
  }
  const bad: string[] = [];
  for (let e = 0; e < want.data.length; e++) {
    const bound = tol.atol * tol.scale![e] + tol.rtol * Math.abs(want.data[e]);
    if (!(Math.abs(got[e] - want.data[e]) <= bound)) {
      bad.push(`[${e}] grad ${got[e]}, finite difference ${want.data[e].toPrecision(9)}`);
    }
  }
  if (bad.length) {
    throw new Error(
      `${name}: gradient of input ${i}: ${bad.length} of ${want.data.length} off: ${
        bad.slice(0, 6).join("; ")
      }`,
    );
  }
}

// ---- matmul ----------------------------------------------------------------------------

for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
  const [m, k, n] = [3, 5, 4];
  gradCase({
    name: `matmul transA=${ta} transB=${tb}`,
    inputs: [
      input(`g mm a ${ta}${tb}`, ta ? [k, m] : [m, k]),
      input(`g mm b ${ta}${tb}`, tb ? [n, k] : [k, n]),
    ],
    forward: ([a, b]) => matmul(a, b, ta, tb),
    reference: ([a, b]) => R.matmul(a, b, ta, tb),
    webgpu: ta === tb,
  });
}

// ---- broadcasting binary ops -----------------------------------------------------------

const PAIRS: [Shape, Shape][] = [
  [[3, 4], [3, 4]],
  [[3, 4], [1, 4]],
  [[3, 4], [3, 1]],
  [[1, 1], [3, 4]],
  [[3, 1], [1, 4]],
];
const BINARY = {
  add: [add, R.add],
  sub: [sub, R.sub],
  mul: [mul, R.mul],
  div: [div, R.div],
} as const;
for (const name of Object.keys(BINARY) as (keyof typeof BINARY)[]) {
  const [op, ref] = BINARY[name];
  for (const [sa, sb] of PAIRS) {
    gradCase({
      name: `${name} [${sa}] with [${sb}]`,
      inputs: [
        input(`g ${name} a ${sa}${sb}`, sa),
        name === "div" ? signed(`g ${name} b ${sa}${sb}`, sb, 0.5, 1.5) : input(`g ${name} b ${sa}${sb}`, sb),
      ],
      forward: ([a, b]) => op(a, b),
      reference: ([a, b]) => ref(a, b),
      webgpu: sa[0] === 3 && sb[0] === 1 || sa[0] === 1,
    });
  }
}

gradCase({
  name: "number operands: x + 2, 2 − x, 3·x, x / 3, 2 / x",
  inputs: [signed("g numbers", [3, 4], 0.5, 1.5)],
  forward: ([x]) => concat([add(x, 2), sub(2, x), mul(3, x), div(x, 3), div(2, x)], 1),
  reference: ([x]) => R.concat([R.add(x, 2), R.sub(2, x), R.mul(3, x), R.div(x, 3), R.div(2, x)], 1),
});

for (const [name, op, ref] of [["maximum", maximum, R.maximum], ["minimum", minimum, R.minimum]] as const) {
  // b = a ± 0.1..1, so no ties; both operands win somewhere.
  const a = input(`g ${name} a`, [3, 4]);
  const d = awayFromZero(`g ${name} d`, 12, 0.1, 1);
  const b: Input = { shape: [3, 4], data: a.data.map((v, i) => v + d[i]) };
  gradCase({
    name,
    inputs: [a, b],
    forward: ([x, y]) => op(x, y),
    reference: ([x, y]) => ref(x, y),
    webgpu: name === "maximum",
  });
  // Broadcast [3, 4] against a row [1, 4] kept ≥ 0.1 from every entry of its column.
  const row: Input = { shape: [1, 4], data: new Float32Array([0.05, -0.35, 0.55, -0.75]) };
  const full = signed(`g ${name} full`, [3, 4], 0.1, 0.2);
  full.data.forEach((v, i) => (full.data[i] = row.data[i % 4] + v));
  gradCase({
    name: `${name} [3,4] with [1,4]`,
    inputs: [full, row],
    forward: ([x, y]) => op(x, y),
    reference: ([x, y]) => ref(x, y),
  });
}

// ---- unary ops -------------------------------------------------------------------------

const UNARY: [string, (x: Tensor) => Tensor, (x: R.Mat) => R.Mat, Input, boolean][] = [
  ["neg", neg, R.neg, input("g neg", [3, 4]), false],
  ["relu", relu, R.relu, signed("g relu", [3, 4]), true],
  ["exp", exp, R.exp, input("g exp", [3, 4], -2, 2), true],
  ["log", log, R.log, input("g log", [3, 4], 0.2, 3), true],
  ["sqrt", sqrt, R.sqrt, input("g sqrt", [3, 4], 0.2, 3), false],
  ["abs", abs, R.abs, signed("g abs", [3, 4]), false],
  ["square", square, R.square, input("g square", [3, 4], -2, 2), false],
];
for (const [name, op, ref, x, webgpu] of UNARY) {
  gradCase({ name, inputs: [x], forward: ([t]) => op(t), reference: ([m]) => ref(m), webgpu });
}

for (const p of [2, 3, -1, -2]) {
  gradCase({
    name: `pow integer exponent ${p} on signed input`,
    inputs: [signed(`g pow ${p}`, [3, 4], 0.3, 1.5)],
    forward: ([x]) => pow(x, p),
    reference: ([x]) => R.pow(x, p),
    webgpu: p === 3,
  });
}
for (const p of [0.5, 1.7, -0.5, -1.5]) {
  gradCase({
    name: `pow non-integer exponent ${p}`,
    inputs: [input(`g pow ${p}`, [3, 4], 0.3, 2)],
    forward: ([x]) => pow(x, p),
    reference: ([x]) => R.pow(x, p),
    webgpu: p === -1.5,
  });
}

// ---- reductions ------------------------------------------------------------------------

for (const axis of [0, 1, undefined] as const) {
  gradCase({
    name: `sum axis ${axis ?? "all"}`,
    inputs: [input(`g sum ${axis}`, [4, 5])],
    forward: ([x]) => sum(x, axis),
    reference: ([x]) => R.sum(x, axis),
    webgpu: axis !== undefined,
  });
  gradCase({
    name: `mean axis ${axis ?? "all"}`,
    inputs: [input(`g mean ${axis}`, [4, 5])],
    forward: ([x]) => mean(x, axis),
    reference: ([x]) => R.mean(x, axis),
  });
}

gradCase({
  name: "max axis 1",
  inputs: [distinct("g max 1", [4, 6])],
  forward: ([x]) => max(x, 1).values,
  reference: ([x]) => R.max(x, 1).values,
  webgpu: true,
});
// max over axis 0 needs distinct values down each column: transpose a row-distinct matrix.
gradCase({
  name: "max axis 0",
  inputs: [{ shape: [6, 4], data: new Float32Array(R.transpose(toMat(distinct("g max 0", [4, 6]))).data) }],
  forward: ([x]) => max(x, 0).values,
  reference: ([x]) => R.max(x, 0).values,
  webgpu: true,
});

gradCase({
  name: "logsumexp",
  inputs: [input("g lse", [4, 6], -3, 3)],
  forward: ([x]) => logsumexp(x),
  reference: ([x]) => R.logsumexp(x),
  webgpu: true,
});
gradCase({
  name: "logSoftmax",
  inputs: [input("g logSoftmax", [4, 6], -3, 3)],
  forward: ([x]) => logSoftmax(x),
  reference: ([x]) => R.logSoftmax(x),
});
{
  const labels = ints("g ce labels", 5, 6);
  gradCase({
    name: "softmaxCrossEntropy",
    inputs: [input("g ce", [5, 6], -3, 3)],
    forward: ([x], backend) => softmaxCrossEntropy(x, indexTensor(labels, undefined, backend)),
    reference: ([x]) => R.softmaxCrossEntropy(x, labels),
    webgpu: true,
  });
}

// ---- sort, gather, scatter -------------------------------------------------------------

gradCase({
  name: "sortRows values",
  inputs: [distinct("g sort", [3, 9])],
  forward: ([x]) => sortRows(x).values,
  reference: ([x]) => R.sortRows(x).values,
  webgpu: true,
});
{
  // Sliced Wasserstein: project both point sets on directions Θ, sort each projection and take
  // Σ (sort(Xθ) − sort(Yθ))². The gradient reaches X and Y through the sort permutations.
  const x = input("g sw x", [7, 3]), y = input("g sw y", [7, 3]), theta = input("g sw theta", [3, 4]);
  const thetaM = toMat(theta);
  const proj = (m: R.Mat) => R.sortRows(R.transpose(R.matmul(m, thetaM))).values;
  gradCase({
    name: "sliced Wasserstein Σ|sort(a) − sort(b)|²",
    inputs: [x, y],
    forward: ([a, b], backend) => {
      const th = tensor(theta.data, theta.shape, { backend });
      const pa = sortRows(transpose(matmul(a, th))).values, pb = sortRows(transpose(matmul(b, th))).values;
      return sum(square(sub(pa, pb)));
    },
    reference: ([a, b]) => R.sum(R.square(R.sub(proj(a), proj(b)))),
    webgpu: true,
  });
}
{
  const rows = [4, 0, 2, 2, 4, 1, 0];
  gradCase({
    name: "gatherRows with repeated indices",
    inputs: [input("g gatherRows", [5, 3])],
    forward: ([x], backend) => gatherRows(x, indexTensor(rows, undefined, backend)),
    reference: ([x]) => R.gatherRows(x, rows),
    webgpu: true,
  });
  gradCase({
    name: "scatterAddRows with repeated indices",
    inputs: [input("g scatterAddRows", [7, 3])],
    forward: ([x], backend) => scatterAddRows(x, indexTensor(rows, undefined, backend), 6),
    reference: ([x]) => R.scatterAddRows(x, rows, 6),
  });
  const perm = [3, 0, 4, 1, 2];
  gradCase({
    name: "permuteRows",
    inputs: [input("g permuteRows", [5, 3])],
    forward: ([x], backend) => permuteRows(x, indexTensor(perm, undefined, backend)),
    reference: ([x]) => R.permuteRows(x, perm),
  });
  const elems = [[3, 3, 0, 1], [1, 2, 3, 2], [0, 0, 0, 0]];
  gradCase({
    name: "gatherElems with repeated indices",
    inputs: [input("g gatherElems", [3, 4])],
    forward: ([x], backend) => gatherElems(x, indexTensor(elems.flat(), [3, 4], backend)),
    reference: ([x]) => R.gatherElems(x, elems),
  });
  gradCase({
    name: "scatterAddElems with repeated indices",
    inputs: [input("g scatterAddElems", [3, 4])],
    forward: ([x], backend) => scatterAddElems(x, indexTensor(elems.flat(), [3, 4], backend), 5),
    reference: ([x]) => R.scatterAddElems(x, elems, 5),
    webgpu: true,
  });
}

// ---- layout ----------------------------------------------------------------------------

gradCase({
  name: "transpose",
  inputs: [input("g transpose", [3, 5])],
  forward: ([x]) => transpose(x),
  reference: ([x]) => R.transpose(x),
});
gradCase({
  name: "reshape",
  inputs: [input("g reshape", [3, 4])],
  forward: ([x]) => reshape(x, [2, 6]),
  reference: ([x]) => R.reshape(x, 2, 6),
});
for (const axis of [0, 1] as const) {
  gradCase({
    name: `slice axis ${axis}`,
    inputs: [input(`g slice ${axis}`, [5, 6])],
    forward: ([x]) => slice(x, axis, 1, 4),
    reference: ([x]) => R.slice(x, axis, 1, 4),
    webgpu: axis === 1,
  });
  gradCase({
    name: `concat axis ${axis} (the same input twice)`,
    inputs: [input(`g concat a ${axis}`, [3, 4]), input(`g concat b ${axis}`, [3, 4])],
    forward: ([a, b]) => concat([a, b, a], axis),
    reference: ([a, b]) => R.concat([a, b, a], axis),
    webgpu: axis === 0,
  });
}
for (const shape of [[1, 4], [3, 1], [1, 1]] as Shape[]) {
  gradCase({
    name: `expand [${shape}] to [3,4]`,
    inputs: [input(`g expand ${shape}`, shape)],
    forward: ([x]) => expand(x, [3, 4]),
    reference: ([x]) => R.expand(x, 3, 4),
  });
}

// ---- composites ------------------------------------------------------------------------

gradCase({
  name: "pairwiseSqDist",
  inputs: [input("g pdist x", [4, 3]), input("g pdist y", [5, 3])],
  forward: ([x, y]) => pairwiseSqDist(x, y),
  reference: ([x, y]) => R.pairwiseSqDist(x, y),
  webgpu: true,
});
gradCase({
  name: "mawaLoss",
  inputs: [input("g mawa y", [6, 4]), input("g mawa anchors", [6, 4])],
  forward: ([y, a]) => mawaLoss(y, a),
  reference: ([y, a]) => R.mawaLoss(y, a),
  webgpu: true,
});
{
  // The Mlp's own initialisation; x and every parameter are differentiated. Pre-activations are
  // checked to stay ≥ 0.01 from relu's kink below.
  const sizes = [4, 6, 3];
  const init = new Mlp(sizes, 7, "grad", cpuBackend());
  const params: Input[] = init.parameters.map((p) => ({ shape: p.shape, data: p.toArraySync() }));
  init.dispose();
  const x = input("g mlp x", [5, 4], -2, 2);
  const layers = (xs: R.Mat[]) => [{ weight: xs[1], bias: xs[2] }, { weight: xs[3], bias: xs[4] }];
  const pre = R.add(R.matmul(toMat(x), toMat(params[0])), toMat(params[1]));
  const kink = Math.min(...Array.from(pre.data, Math.abs));
  if (kink < 0.01) throw new Error(`Mlp grad case: a pre-activation is ${kink} from relu's kink`);
  gradCase({
    name: "Mlp [4, 6, 3] forward",
    inputs: [x, ...params],
    forward: ([t, ...ps], backend) => {
      const mlp = new Mlp(sizes, 7, "grad", backend);
      mlp.layers.forEach((l, i) => {
        l.weight = ps[2 * i];
        l.bias = ps[2 * i + 1];
      });
      return mlp.forward(t);
    },
    reference: ([t, ...ps]) => R.mlpForward(t, layers([t, ...ps])),
    webgpu: true,
  });
  gradCase({
    name: "mawaLoss(Mlp(x), anchors)",
    inputs: [x, ...params, input("g mlp anchors", [5, 3])],
    forward: ([t, w1, b1, w2, b2, anchors]) =>
      mawaLoss(add(matmul(relu(add(matmul(t, w1), b1)), w2), b2), anchors),
    reference: ([t, w1, b1, w2, b2, anchors]) =>
      R.mawaLoss(R.mlpForward(t, [{ weight: w1, bias: b1 }, { weight: w2, bias: b2 }]), anchors),
  });
}

Deno.test("matmulTransposed: values and gradients bit for bit those of transpose(matmul(...)) on the cpu", () => {
  const be = cpuBackend();
  // A sliced Wasserstein projection ([n, d]·[d, P], taken directly as Pᵀ-major), every transpose
  // pair, and a narrow product that the backend composes instead (`transposedRoundsAlike`).
  for (const [m, k, n] of [[300, 64, 250], [96, 200, 33], [1024, 256, 10]]) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a = tensor(normals(`mt a ${m} ${k}`, m * k), transA ? [k, m] : [m, k], {
        backend: be,
        requiresGrad: true,
      });
      const b = tensor(normals(`mt b ${k} ${n}`, k * n), transB ? [n, k] : [k, n], {
        backend: be,
        requiresGrad: true,
      });
      const w = tensor(normals(`mt w ${m} ${n}`, m * n), [n, m], { backend: be });
      const run = (f: () => Tensor) => {
        const y = f();
        return [y, ...grad(sum(mul(y, w)), [a, b])].map((t) => new Int32Array(t.toArraySync().buffer));
      };
      const got = run(() => matmulTransposed(a, b, transA, transB));
      const want = run(() => transpose(matmul(a, b, transA, transB)));
      ["value", "grad a", "grad b"].forEach((what, i) => {
        // The first differing element (a deepEqual diff of 10^5 elements takes minutes).
        const at = want[i].findIndex((v, j) => v !== got[i][j]);
        assert.equal(
          at,
          -1,
          `${m}×${k}·${k}×${n} transA ${transA} transB ${transB}: ${what} differs at ${at}`,
        );
      });
    }
  }
  assert.throws(
    () =>
      matmulTransposed(
        tensor(normals("mt x", 6), [2, 3], { backend: be }),
        tensor(normals("mt y", 8), [4, 2], { backend: be }),
      ),
    /inner dimensions differ/,
  );
});

Deno.test("biasRelu: values and gradients bit for bit those of relu(add(x, bias)) on the cpu", () => {
  const be = cpuBackend();
  const x = tensor(normals("bias relu x", 24 * 33), [24, 33], { backend: be, requiresGrad: true });
  const b = tensor(normals("bias relu b", 33), [1, 33], { backend: be, requiresGrad: true });
  const w = tensor(normals("bias relu w", 24 * 33), [24, 33], { backend: be });
  const run = (f: () => Tensor) => {
    const y = f();
    const gs = grad(sum(mul(y, w)), [x, b]);
    return [y, ...gs].map((t) => Array.from(new Int32Array(t.toArraySync().buffer)));
  };
  assert.deepEqual(run(() => biasRelu(x, b)), run(() => relu(add(x, b))));
  assert.throws(() => biasRelu(x, x), /expected a bias \[1, 33\]/);
});

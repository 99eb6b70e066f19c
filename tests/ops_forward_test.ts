/**
 * Forward values of every op in `src/tensor/ops.ts` on every backend, against the float64
 * reference in `reference.ts` evaluated on the very float32 values the backend sees; then webgpu
 * against cpu directly on identical inputs (see `testBackends`).
 */
import type { Backend, Shape } from "../src/tensor/backend.ts";
import {
  abs,
  add,
  concat,
  div,
  exp,
  expand,
  full,
  gatherElems,
  gatherRows,
  indexTensor,
  log,
  logSoftmax,
  logsumexp,
  matmul,
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
  sign,
  slice,
  softmaxCrossEntropy,
  sortRows,
  sqrt,
  square,
  step,
  sub,
  sum,
  tensor,
  transpose,
  zeros,
} from "../src/tensor/ops.ts";
import type { Tensor } from "../src/tensor/tensor.ts";
import * as R from "./reference.ts";
import {
  awayFromZero,
  checkInts,
  checkMat,
  evaluate,
  ints,
  ref,
  testBackends,
  type Tol,
  twice,
  uniforms,
} from "./helpers.ts";

// ---- tolerances --------------------------------------------------------------------------
// The reference runs in float64 on exactly the float32 inputs, so every tolerance is a bound on
// float32 rounding of the op itself.

/** float32 unit roundoff. */
const U = 2 ** -24;
/** Copies, gathers, sorts, transposes, sign flips, relu, abs, max values: no arithmetic, exact. */
const EXACT: Tol = { rtol: 0, atol: 0 };
/**
 * One rounded arithmetic op (+ − × ÷ max min): IEEE gives ≤ U relative; WGSL allows division
 * 2.5 ULP (≤ 5U relative), so 8U covers both backends.
 */
const ELEMENTWISE: Tol = { rtol: 8 * U, atol: 0 };
/**
 * exp, log, sqrt, pow: WGSL only promises exp to 3 + 2|x| ULP, log to 2^-21 absolute near 1 and
 * pow as exp2(y·log2 x), which amplifies log2's error by |y|; 1e-5 relative with 1e-6 absolute
 * (for results near 0, e.g. log(1 + δ)) covers that for |x|, |y| ≤ 4.
 */
const TRANSCENDENTAL: Tol = { rtol: 1e-5, atol: 1e-6 };
/**
 * logsumexp = m + log Σ exp(x − m) over n columns of |x − m| ≤ 4: exp's ≤ 11 ULP per term (≤ 1.3e-6
 * relative), the positive sum's ≤ nU relative, log's 2^-21 absolute (which is what a relative error
 * of its argument becomes): ≤ 2e-6 + (n + 1)U absolute, plus 4U relative for adding m back.
 */
function lseTol(n: number): Tol {
  return { rtol: 4 * U, atol: 2e-6 + (n + 1) * U };
}
const LSE: Tol = lseTol(16);

/**
 * A sum of n float32 terms (recursive, pairwise or blocked, with or without FMA) is within
 * γ_n·Σ|terms| of the exact sum, γ_n ≈ n·U (Higham, Accuracy and Stability, §3.1 and §4.2).
 * `extra` counts further rounded ops applied to the sum (mean's scaling, the adds of a composite).
 */
function summation(n: number, scale: ArrayLike<number>, extra = 0): Tol {
  return { rtol: 0, atol: (n + 1 + extra) * U, scale };
}

function T(backend: Backend, data: Float32Array | number[], shape: Shape): Tensor {
  return tensor(data instanceof Float32Array ? data : new Float32Array(data), shape, { backend });
}

function size(s: Shape): number {
  return s[0] * s[1];
}

function str(s: Shape): string {
  return `[${s[0]},${s[1]}]`;
}

// ---- matmul ----------------------------------------------------------------------------

for (const [m, k, n] of [[5, 7, 3], [33, 65, 17]] as const) {
  const flags = [[false, false], [false, true], [true, false], [true, true]] as const;
  const cases = flags.map(([ta, tb]) => {
    const aShape: Shape = ta ? [k, m] : [m, k];
    const bShape: Shape = tb ? [n, k] : [k, n];
    const a = uniforms(`mm a ${m} ${ta}`, size(aShape)), b = uniforms(`mm b ${n} ${tb}`, size(bShape));
    const ra = ref(aShape[0], aShape[1], a), rb = ref(bShape[0], bShape[1], b);
    const key = `${ta ? "T" : "N"}${tb ? "T" : "N"}`;
    // γ_k Σ_k |a_ik||b_kj| bounds the rounding of a k-term dot product.
    const tol = summation(k, R.matmulAbs(ra, rb, ta, tb).data);
    return { ta, tb, aShape, bShape, a, b, want: R.matmul(ra, rb, ta, tb), key, tol };
  });
  testBackends(
    `matmul [${m}x${k}]·[${k}x${n}] with all four transpose flags`,
    async (backend) => {
      const ev = await evaluate(() =>
        Object.fromEntries(
          cases.map((c) => [c.key, matmul(T(backend, c.a, c.aShape), T(backend, c.b, c.bShape), c.ta, c.tb)]),
        )
      );
      for (const c of cases) checkMat(ev, c.key, c.want, c.tol);
      return ev.out;
    },
    { float: ELEMENTWISE, byKey: Object.fromEntries(cases.map((c) => [c.key, twice(c.tol)])) },
  );
}

// ---- broadcasting binary ops -----------------------------------------------------------

const FORMS: Shape[] = [[3, 4], [1, 4], [3, 1], [1, 1]];
const BINARY = { add, sub, mul, div, maximum, minimum } as const;

for (const name of Object.keys(BINARY) as (keyof typeof BINARY)[]) {
  const fn = BINARY[name];
  const cases = FORMS.flatMap((sa) =>
    FORMS.map((sb) => {
      // Quarter steps make exact ties for maximum/minimum; divisors stay away from 0.
      const a = uniforms(`${name} a ${str(sa)}`, size(sa), -2, 2).map((x) => Math.round(4 * x) / 4);
      const b = name === "div"
        ? awayFromZero(`${name} b ${str(sb)}`, size(sb), 0.25, 2)
        : uniforms(`${name} b ${str(sb)}`, size(sb), -2, 2).map((x) => Math.round(4 * x) / 4);
      const want = R.binary(name, ref(sa[0], sa[1], a), ref(sb[0], sb[1], b));
      return { key: `${str(sa)} ${name} ${str(sb)}`, sa, sb, a, b, want };
    })
  );
  testBackends(
    `${name}: every broadcast form [r,c]/[1,c]/[r,1]/[1,1] on each side`,
    async (backend) => {
      const ev = await evaluate(() =>
        Object.fromEntries(cases.map((c) => [c.key, fn(T(backend, c.a, c.sa), T(backend, c.b, c.sb))]))
      );
      for (const c of cases) checkMat(ev, c.key, c.want, ELEMENTWISE);
      return ev.out;
    },
    { float: twice(ELEMENTWISE) },
  );
}

{
  const x = uniforms("scalar operands", 12, -2, 2), shape: Shape = [3, 4];
  const rx = ref(3, 4, x);
  const dx = awayFromZero("scalar divisor", 12, 0.25, 2), rdx = ref(3, 4, dx);
  testBackends("add/sub/mul/div with number operands on either side", async (backend) => {
    const ev = await evaluate(() => {
      const t = T(backend, x, shape), d = T(backend, dx, shape);
      return {
        "t+2.5": add(t, 2.5),
        "2.5+t": add(2.5, t),
        "t-2.5": sub(t, 2.5),
        "2.5-t": sub(2.5, t),
        "t*-3": mul(t, -3),
        "-3*t": mul(-3, t),
        "t/4": div(t, 4),
        "t/3": div(t, 3),
        "2/d": div(2, d),
      };
    });
    checkMat(ev, "t+2.5", R.add(rx, 2.5), ELEMENTWISE);
    checkMat(ev, "2.5+t", R.add(2.5, rx), ELEMENTWISE);
    checkMat(ev, "t-2.5", R.sub(rx, 2.5), ELEMENTWISE);
    checkMat(ev, "2.5-t", R.sub(2.5, rx), ELEMENTWISE);
    checkMat(ev, "t*-3", R.mul(rx, -3), ELEMENTWISE);
    checkMat(ev, "-3*t", R.mul(-3, rx), ELEMENTWISE);
    checkMat(ev, "t/4", R.div(rx, 4), ELEMENTWISE);
    // div by a number multiplies by fl(1/3): two roundings.
    checkMat(ev, "t/3", R.div(rx, 3), { rtol: 2 * ELEMENTWISE.rtol, atol: 0 });
    checkMat(ev, "2/d", R.div(2, rdx), ELEMENTWISE);
    return ev.out;
  }, { float: twice({ rtol: 2 * ELEMENTWISE.rtol, atol: 0 }) });
}

// ---- unary ops -------------------------------------------------------------------------

{
  const shape: Shape = [4, 5];
  const x = uniforms("unary x", 20, -3, 3);
  x[0] = 0; // relu(0), abs(0), sign(0), step(0)
  const pos = uniforms("unary pos", 20, 0.05, 4);
  const rx = ref(4, 5, x), rp = ref(4, 5, pos);
  const map = (f: (v: number) => number) => R.mat(4, 5, Array.from(x, f));
  testBackends("unary: neg, relu, abs, sign, step, exp, log, sqrt, square", async (backend) => {
    const ev = await evaluate(() => {
      const t = T(backend, x, shape), p = T(backend, pos, shape);
      return {
        neg: neg(t),
        relu: relu(t),
        abs: abs(t),
        sign: sign(t),
        step: step(t),
        exp: exp(t),
        log: log(p),
        sqrt: sqrt(p),
        square: square(t),
      };
    });
    checkMat(ev, "neg", R.neg(rx), EXACT);
    checkMat(ev, "relu", R.relu(rx), EXACT);
    checkMat(ev, "abs", R.abs(rx), EXACT);
    checkMat(ev, "sign", map((v) => Math.sign(v)), EXACT);
    checkMat(ev, "step", map((v) => (v > 0 ? 1 : 0)), EXACT);
    checkMat(ev, "exp", R.exp(rx), TRANSCENDENTAL);
    checkMat(ev, "log", R.log(rp), TRANSCENDENTAL);
    checkMat(ev, "sqrt", R.sqrt(rp), TRANSCENDENTAL);
    checkMat(ev, "square", R.square(rx), ELEMENTWISE);
    return ev.out;
  }, { float: twice(TRANSCENDENTAL) });

  // Integer exponents are defined for negative bases; non-integer ones only for x ≥ 0 (NaN below).
  const signed = awayFromZero("pow signed", 20, 0.2, 2.5), rs = ref(4, 5, signed);
  const intExps = [0, 1, 2, 3, 4, -1, -2, -3];
  const fracExps = [0.5, 1.7, -0.5, -1.3, 2.25];
  testBackends("pow: integer, non-integer and negative exponents", async (backend) => {
    const ev = await evaluate(() => {
      const s = T(backend, signed, shape), p = T(backend, pos, shape);
      return Object.fromEntries([
        ...intExps.map((e) => [`signed^${e}`, pow(s, e)]),
        ...fracExps.map((e) => [`pos^${e}`, pow(p, e)]),
        ["negative^0.5 is NaN", pow(s, 0.5)],
      ]);
    });
    for (const e of intExps) checkMat(ev, `signed^${e}`, R.pow(rs, e), TRANSCENDENTAL);
    for (const e of fracExps) checkMat(ev, `pos^${e}`, R.pow(rp, e), TRANSCENDENTAL);
    checkMat(ev, "negative^0.5 is NaN", R.pow(rs, 0.5), TRANSCENDENTAL);
    return ev.out;
  }, { float: twice(TRANSCENDENTAL) });
}

// ---- reductions ------------------------------------------------------------------------

{
  // [3, 1500] and [1500, 2]: long enough (≥ 512) for webgpu's cooperative reduction path.
  const cases: Shape[] = [[6, 9], [1, 7], [5, 1], [37, 70], [3, 1500], [1500, 2]];
  const data = cases.map((s) => uniforms(`sum ${str(s)}`, size(s), -2, 2));
  const expected = cases.flatMap((s, i) => {
    const r = ref(s[0], s[1], data[i]), ra = R.abs(r), n = size(s);
    return [
      { key: `sum0 ${str(s)}`, want: R.sum(r, 0), tol: summation(s[0], R.sum(ra, 0).data) },
      { key: `sum1 ${str(s)}`, want: R.sum(r, 1), tol: summation(s[1], R.sum(ra, 1).data) },
      { key: `sum ${str(s)}`, want: R.sum(r), tol: summation(n, R.sum(ra).data) },
      // mean scales the sum: one more rounding.
      { key: `mean0 ${str(s)}`, want: R.mean(r, 0), tol: summation(s[0], R.mean(ra, 0).data, 1) },
      { key: `mean1 ${str(s)}`, want: R.mean(r, 1), tol: summation(s[1], R.mean(ra, 1).data, 1) },
      { key: `mean ${str(s)}`, want: R.mean(r), tol: summation(n, R.mean(ra).data, 1) },
    ];
  });
  testBackends("sum and mean over axis 0, axis 1 and everything", async (backend) => {
    const ev = await evaluate(() =>
      Object.fromEntries(cases.flatMap((s, i) => {
        const t = T(backend, data[i], s);
        return [
          [`sum0 ${str(s)}`, sum(t, 0)],
          [`sum1 ${str(s)}`, sum(t, 1)],
          [`sum ${str(s)}`, sum(t)],
          [`mean0 ${str(s)}`, mean(t, 0)],
          [`mean1 ${str(s)}`, mean(t, 1)],
          [`mean ${str(s)}`, mean(t)],
        ];
      }))
    );
    for (const e of expected) checkMat(ev, e.key, e.want, e.tol);
    return ev.out;
  }, { float: EXACT, byKey: Object.fromEntries(expected.map((e) => [e.key, twice(e.tol)])) });
}

{
  // Quarter steps in [-2, 2] make ties: the index must be the first maximum.
  const cases: Shape[] = [[5, 8], [1, 6], [7, 1], [19, 67], [2, 1100], [900, 3]];
  const data = cases.map((s) => uniforms(`max ${str(s)}`, size(s), -2, 2).map((x) => Math.round(4 * x) / 4));
  testBackends("max over axis 0 and 1: values and first-max indices", async (backend) => {
    const ev = await evaluate(() =>
      Object.fromEntries(cases.flatMap((s, i) => {
        const t = T(backend, data[i], s);
        const m0 = max(t, 0), m1 = max(t, 1);
        return [
          [`max0 ${str(s)}`, m0.values],
          [`argmax0 ${str(s)}`, m0.indices],
          [`max1 ${str(s)}`, m1.values],
          [`argmax1 ${str(s)}`, m1.indices],
        ];
      }))
    );
    cases.forEach((s, i) => {
      const r = ref(s[0], s[1], data[i]);
      const m0 = R.max(r, 0), m1 = R.max(r, 1);
      checkMat(ev, `max0 ${str(s)}`, m0.values, EXACT);
      checkInts(ev, `argmax0 ${str(s)}`, [1, s[1]], m0.indices);
      checkMat(ev, `max1 ${str(s)}`, m1.values, EXACT);
      checkInts(ev, `argmax1 ${str(s)}`, [s[0], 1], m1.indices);
    });
    return ev.out;
  }, { float: EXACT });
}

{
  const shape: Shape = [5, 16];
  const x = uniforms("lse", 80, -2, 2);
  // Rows far from 0: a naive Σ exp overflows (1000) or underflows (−1000) float32.
  const big = new Float32Array([
    ...[1000, 999, 998.5, 1000],
    ...[-1000, -1001, -999.25, -1000],
    ...[1000, 0, -1000, 3],
    ...[88, 89, 90, 87.5],
  ]);
  const rx = ref(5, 16, x), rb = ref(4, 4, big);
  const labels = ints("ce labels", 5, 16);
  // Long rows (≥ 512) take webgpu's cooperative logsumexp path.
  const wide = uniforms("lse wide", 2 * 700, -2, 2), rw = ref(2, 700, wide);
  testBackends("logsumexp (stable at ±1000), logSoftmax, softmaxCrossEntropy", async (backend) => {
    const ev = await evaluate(() => {
      const t = T(backend, x, shape), b = T(backend, big, [4, 4]);
      return {
        lse: logsumexp(t),
        "lse wide": logsumexp(T(backend, wide, [2, 700])),
        "lse big": logsumexp(b),
        logSoftmax: logSoftmax(t),
        "logSoftmax big": logSoftmax(b),
        "ce [r,1] labels": softmaxCrossEntropy(t, indexTensor(labels, [5, 1], backend)),
        "ce [1,r] labels": softmaxCrossEntropy(t, indexTensor(labels, [1, 5], backend)),
      };
    });
    checkMat(ev, "lse", R.logsumexp(rx), LSE);
    checkMat(ev, "lse wide", R.logsumexp(rw), lseTol(700));
    checkMat(ev, "lse big", R.logsumexp(rb), LSE);
    checkMat(ev, "logSoftmax", R.logSoftmax(rx), LSE);
    // x − lse at |x| = 1000 loses 1000·U to the subtraction's operands' ulps.
    checkMat(ev, "logSoftmax big", R.logSoftmax(rb), { rtol: LSE.rtol, atol: LSE.atol + 2 * 1000 * U });
    const ce = R.softmaxCrossEntropy(rx, labels);
    checkMat(ev, "ce [r,1] labels", ce, LSE);
    checkMat(ev, "ce [1,r] labels", ce, LSE);
    return ev.out;
  }, {
    float: { rtol: 2 * LSE.rtol, atol: 2 * (LSE.atol + 2 * 1000 * U) },
    byKey: { "lse wide": twice(lseTol(700)) },
  });
}

// ---- sorting ---------------------------------------------------------------------------

{
  const random: Shape = [3, 13], wide: Shape = [2, 300], pow2: Shape = [4, 1024];
  const r1 = uniforms("sort random", size(random), -5, 5);
  const r2 = uniforms("sort wide", size(wide), -5, 5);
  const r3 = uniforms("sort pow2", size(pow2), -5, 5);
  // Ties (several equal values, at both ends and between) and special values.
  const ties = new Float32Array([
    ...[2, 1, 2, 0, 1, 2, -1, 0, 2, 1],
    ...[5, 5, 5, 5, 5, 5, 5, 5, 5, 5],
    ...[3, -3, 3, -3, 3, -3, 0.5, 0.5, -3, 3],
    // -0 and +0 are equal: they keep their order.
    ...[0, -0, 1, -0, 0, -1, -0, 0, 0, -0],
  ]);
  const special = new Float32Array([
    ...[NaN, 1, Infinity, -Infinity, 0, NaN, -2, Infinity, 3, -Infinity],
    ...[Infinity, NaN, 1e30, -1e30, NaN, NaN, 7, -7, 0, 0],
  ]);
  const cases: [string, Shape, Float32Array][] = [
    ["random", random, r1],
    ["wide", wide, r2],
    ["pow2", pow2, r3],
    ["ties", [4, 10], ties],
    ["NaN/Infinity", [2, 10], special],
  ];
  testBackends("sortRows: values, stable indices for ties, NaN after +Infinity", async (backend) => {
    const ev = await evaluate(() =>
      Object.fromEntries(cases.flatMap(([name, s, d]) => {
        const o = sortRows(tensor(d, s, { backend, allowNonFinite: true }));
        return [[`${name} values`, o.values], [`${name} indices`, o.indices]];
      }))
    );
    for (const [name, s, d] of cases) {
      const want = R.sortRows(ref(s[0], s[1], d));
      checkMat(ev, `${name} values`, want.values, EXACT);
      checkInts(ev, `${name} indices`, s, want.indices.flat());
    }
    return ev.out;
  }, { float: EXACT });
}

// ---- gather / scatter ------------------------------------------------------------------

{
  const shape: Shape = [6, 5];
  const x = uniforms("gather x", 30), rx = ref(6, 5, x);
  const rowIdx = [5, 0, 2, 2, 5, 1, 0]; // repeats
  const perm = [3, 0, 5, 1, 4, 2];
  const src = uniforms("scatter src", 7 * 5), rsrc = ref(7, 5, src);
  const elemIdx = [[4, 4, 0], [1, 2, 3], [0, 0, 0], [2, 4, 2], [3, 1, 0], [4, 3, 2]];
  const esrc = uniforms("scatter elems src", 18), resrc = ref(6, 3, esrc);
  testBackends(
    "gatherRows, scatterAddRows, permuteRows, gatherElems, scatterAddElems (repeats)",
    async (backend) => {
      const ev = await evaluate(() => {
        const t = T(backend, x, shape);
        return {
          gatherRows: gatherRows(t, indexTensor(rowIdx, undefined, backend)),
          "gatherRows [1,n] idx": gatherRows(t, indexTensor(rowIdx, [1, 7], backend)),
          scatterAddRows: scatterAddRows(T(backend, src, [7, 5]), indexTensor(rowIdx, undefined, backend), 6),
          "scatterAddRows to 9 rows": scatterAddRows(
            T(backend, src, [7, 5]),
            indexTensor(rowIdx, undefined, backend),
            9,
          ),
          permuteRows: permuteRows(t, indexTensor(perm, undefined, backend)),
          gatherElems: gatherElems(t, indexTensor(elemIdx.flat(), [6, 3], backend)),
          scatterAddElems: scatterAddElems(
            T(backend, esrc, [6, 3]),
            indexTensor(elemIdx.flat(), [6, 3], backend),
            5,
          ),
        };
      });
      checkMat(ev, "gatherRows", R.gatherRows(rx, rowIdx), EXACT);
      checkMat(ev, "gatherRows [1,n] idx", R.gatherRows(rx, rowIdx), EXACT);
      // Repeats sum at most two terms: one rounding.
      checkMat(ev, "scatterAddRows", R.scatterAddRows(rsrc, rowIdx, 6), ELEMENTWISE);
      checkMat(ev, "scatterAddRows to 9 rows", R.scatterAddRows(rsrc, rowIdx, 9), ELEMENTWISE);
      checkMat(ev, "permuteRows", R.permuteRows(rx, perm), EXACT);
      checkMat(ev, "gatherElems", R.gatherElems(rx, elemIdx), EXACT);
      // Row 2 sums three terms into column 0: two roundings of values ≤ 3 in magnitude.
      checkMat(ev, "scatterAddElems", R.scatterAddElems(resrc, elemIdx, 5), { rtol: 0, atol: 3 * 3 * U });
      return ev.out;
    },
    { float: { rtol: 0, atol: 2 * 3 * 3 * U } },
  );
}

// ---- layout ----------------------------------------------------------------------------

{
  const x = uniforms("layout x", 7 * 5), rx = ref(7, 5, x);
  const y = uniforms("layout y", 2 * 5), ry = ref(2, 5, y);
  const z = uniforms("layout z", 7 * 3), rz = ref(7, 3, z);
  testBackends("transpose, reshape, slice and concat on both axes", async (backend) => {
    const ev = await evaluate(() => {
      const t = T(backend, x, [7, 5]), u = T(backend, y, [2, 5]), v = T(backend, z, [7, 3]);
      return {
        transpose: transpose(t),
        "transpose [1,5]": transpose(slice(u, 0, 1, 2)),
        "reshape [5,7]": reshape(t, [5, 7]),
        "reshape [1,35]": reshape(t, [1, 35]),
        "slice rows 2..5": slice(t, 0, 2, 5),
        "slice cols 1..4": slice(t, 1, 1, 4),
        "slice rows 0..7": slice(t, 0, 0, 7),
        "slice cols 4..4 (empty)": slice(t, 1, 4, 4),
        "concat axis 0": concat([t, u, t], 0),
        "concat axis 1": concat([t, v], 1),
        "concat one": concat([v], 1),
      };
    });
    checkMat(ev, "transpose", R.transpose(rx), EXACT);
    checkMat(ev, "transpose [1,5]", R.transpose(R.slice(ry, 0, 1, 2)), EXACT);
    checkMat(ev, "reshape [5,7]", R.reshape(rx, 5, 7), EXACT);
    checkMat(ev, "reshape [1,35]", R.reshape(rx, 1, 35), EXACT);
    checkMat(ev, "slice rows 2..5", R.slice(rx, 0, 2, 5), EXACT);
    checkMat(ev, "slice cols 1..4", R.slice(rx, 1, 1, 4), EXACT);
    checkMat(ev, "slice rows 0..7", rx, EXACT);
    checkMat(ev, "slice cols 4..4 (empty)", R.mat(7, 0), EXACT);
    checkMat(ev, "concat axis 0", R.concat([rx, ry, rx], 0), EXACT);
    checkMat(ev, "concat axis 1", R.concat([rx, rz], 1), EXACT);
    checkMat(ev, "concat one", rz, EXACT);
    return ev.out;
  }, { float: EXACT });
}

{
  const row = uniforms("expand row", 4), col = uniforms("expand col", 3), one = uniforms("expand one", 1);
  const same = uniforms("expand same", 12);
  testBackends("expand, full, zeros", async (backend) => {
    const ev = await evaluate(() => ({
      "expand [1,4]": expand(T(backend, row, [1, 4]), [3, 4]),
      "expand [3,1]": expand(T(backend, col, [3, 1]), [3, 4]),
      "expand [1,1]": expand(T(backend, one, [1, 1]), [3, 4]),
      "expand [1,1] to [1,4]": expand(T(backend, one, [1, 1]), [1, 4]),
      "expand [1,1] to [3,1]": expand(T(backend, one, [1, 1]), [3, 1]),
      "expand same": expand(T(backend, same, [3, 4]), [3, 4]),
      full: full([2, 3], -1.25, backend),
      zeros: zeros([3, 2], backend),
    }));
    checkMat(ev, "expand [1,4]", R.expand(ref(1, 4, row), 3, 4), EXACT);
    checkMat(ev, "expand [3,1]", R.expand(ref(3, 1, col), 3, 4), EXACT);
    checkMat(ev, "expand [1,1]", R.expand(ref(1, 1, one), 3, 4), EXACT);
    checkMat(ev, "expand [1,1] to [1,4]", R.expand(ref(1, 1, one), 1, 4), EXACT);
    checkMat(ev, "expand [1,1] to [3,1]", R.expand(ref(1, 1, one), 3, 1), EXACT);
    checkMat(ev, "expand same", ref(3, 4, same), EXACT);
    checkMat(ev, "full", R.full(2, 3, -1.25), EXACT);
    checkMat(ev, "zeros", R.zeros(3, 2), EXACT);
    return ev.out;
  }, { float: EXACT });
}

// ---- composites ------------------------------------------------------------------------

{
  const d = 6;
  const x = uniforms("pdist x", 5 * d), y = uniforms("pdist y", 4 * d);
  const rx = ref(5, d, x), ry = ref(4, d, y);
  // ‖x‖² + ‖y‖² − 2x·y: each term is within γ_d of its exact value, and the two adds round once
  // each, so the error is ≤ (d + 4)U·Σ_k (|x_k| + |y_k|)².
  const tolFor = (a: R.Mat, b: R.Mat): Tol => {
    const scale = new Float64Array(a.rows * b.rows);
    for (let i = 0; i < a.rows; i++) {
      for (let j = 0; j < b.rows; j++) {
        for (let k = 0; k < d; k++) {
          scale[i * b.rows + j] += (Math.abs(R.at(a, i, k)) + Math.abs(R.at(b, j, k))) ** 2;
        }
      }
    }
    return summation(d, scale, 3);
  };
  const tolXY = tolFor(rx, ry), tolXX = tolFor(rx, rx);
  testBackends("pairwiseSqDist (including rows against themselves)", async (backend) => {
    const ev = await evaluate(() => {
      const tx = T(backend, x, [5, d]), ty = T(backend, y, [4, d]);
      return { "x,y": pairwiseSqDist(tx, ty), "x,x": pairwiseSqDist(tx, tx) };
    });
    checkMat(ev, "x,y", R.pairwiseSqDist(rx, ry), tolXY);
    checkMat(ev, "x,x", R.pairwiseSqDist(rx, rx), tolXX);
    // The diagonal is clamped at ≥ 0 (relu), never negative from cancellation.
    for (let i = 0; i < 5; i++) {
      if (ev.out["x,x"][i * 6] < 0) throw new Error(`pairwiseSqDist(x, x) diagonal ${i} is negative`);
    }
    return ev.out;
  }, { float: EXACT, byKey: { "x,y": twice(tolXY), "x,x": twice(tolXX) } });
}

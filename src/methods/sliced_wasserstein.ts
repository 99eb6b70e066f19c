/**
 * Sliced Wasserstein distances (docs/protocol.md, "Losses for the adapter"):
 *
 *   SW_p(A, B) = ( mean over P unit directions θ of mean_i |sort(Aθ)_i − sort(Bθ)_i|^p )^{1/p}
 *
 * for point clouds A [n, d] and B [n, d] with uniform weights. The directions are Gaussian draws
 * normalised to unit length. Differentiable: the gradient flows back through the sort
 * permutation (`sortRows`). The convention is POT's `ot.sliced_wasserstein_distance` with
 * uniform weights and `projections` given (tests/golden/make_sliced_wasserstein.py checks it).
 *
 * Unequal sizes n ≠ m: the 1-D optimal transport between uniform empirical measures of n and m
 * atoms equals that between the same measures with every atom of A repeated m/g times and every
 * atom of B repeated n/g times (g = gcd(n, m)): both then have L = lcm(n, m) equally weighted
 * atoms, and the sorted arrays align. That is exact, and cheap while L is a small multiple of
 * max(n, m); beyond `MAX_LCM_FACTOR`·max(n, m) rows it is refused (subsample to equal sizes).
 */
import { TensorError } from "../errors.ts";
import { CpuBackend } from "../tensor/backends/cpu.ts";
import type { Backend } from "../tensor/backend.ts";
import {
  abs,
  gatherRows,
  indexTensor,
  matmulTransposed,
  mean,
  pow,
  root,
  sortRows,
  square,
  sub,
  tensor,
} from "../tensor/ops.ts";
import { shapeStr, type Tensor, tidy } from "../tensor/tensor.ts";
import type { CounterRng } from "../rng/philox.ts";
import { SINCOS_ERROR, sinCosInto } from "../rng/sincos.ts";

/** n ≠ m is handled by repetition to lcm(n, m) rows only up to this multiple of max(n, m). */
export const MAX_LCM_FACTOR = 16;

/**
 * Standard normals into `out` from `rng`, four per Philox block: block b (b = offset, offset+1, …)
 * holds four 32-bit words w0..w3; Box–Muller on (u1, u2) = ((w0 + 1)/2³², w1/2³²) and on
 * ((w2 + 1)/2³², w3/2³²) gives r·cos(2πu2), r·sin(2πu2) with r = sqrt(−2 ln u1) for each pair.
 * 32-bit uniforms are ample for directions, and this is a quarter of the Philox work of
 * `CounterRng.normal` (one block per normal), which dominated the cost of drawing P = 1000
 * directions per call.
 */
function normals4(rng: CounterRng, out: Float64Array, offset: number): void {
  for (let i = 0; i < out.length; i += 4) {
    const b = rng.block(offset + i / 4);
    for (let h = 0; h < 2 && i + 2 * h < out.length; h++) {
      const u1 = (b[2 * h] + 1) / 4294967296, u2 = b[2 * h + 1] / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1)), a = 2 * Math.PI * u2;
      out[i + 2 * h] = r * Math.cos(a);
      if (i + 2 * h + 1 < out.length) out[i + 2 * h + 1] = r * Math.sin(a);
    }
  }
}

/** Scratch of `randomDirections` (three calls per WaCo step), grown to the largest dim seen. */
let work = {
  g: new Float64Array(0),
  bound: new Float64Array(0),
  r: new Float64Array(0),
  t: new Float64Array(0),
  c: new Float64Array(0),
  s: new Float64Array(0),
};

/** The exact direction k (Math.cos and Math.sin), redrawn while its norm is 0, into out. */
function exactDirection(rng: CounterRng, g: Float64Array, k: number, count: number, out: Float32Array): void {
  const dim = g.length, blocks = Math.ceil(dim / 4);
  let ss = 0;
  // A Gaussian vector of norm 0 has probability 0; redraw from further along the stream if so.
  for (let attempt = 0; ss === 0; attempt++) {
    normals4(rng, g, (attempt * count + k) * blocks);
    for (let j = 0; j < dim; j++) ss += g[j] * g[j];
  }
  const inv = 1 / Math.sqrt(ss);
  for (let j = 0; j < dim; j++) out[k * dim + j] = g[j] * inv;
}

/**
 * `count` unit directions in R^dim, row-major [count, dim]: direction k is a standard Gaussian
 * vector (normals from blocks k·⌈dim/4⌉ … of `rng`, see `normals4`) divided by its norm, so
 * direction k does not depend on `count`. The values are those of `normals4` with Math.cos and
 * Math.sin (`exactDirection`); the cos and sin come from `sinCosInto`, and a direction is kept where
 * each float32 is the same across the bound on its difference from the exact one (the normals'
 * errors carried through the norm), else it is drawn again exactly (about once in 10^3 directions).
 */
export function randomDirections(rng: CounterRng, count: number, dim: number): Float32Array {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(dim) || dim < 1) {
    throw new TensorError("randomDirections", `count ${count}, dim ${dim}; expected positive integers`);
  }
  const out = new Float32Array(count * dim);
  const pairs = Math.ceil(dim / 2), blocks = Math.ceil(dim / 4);
  if (work.g.length < dim) {
    work = {
      g: new Float64Array(dim),
      bound: new Float64Array(dim),
      r: new Float64Array(pairs),
      t: new Float64Array(pairs),
      c: new Float64Array(pairs),
      s: new Float64Array(pairs),
    };
  }
  const { g, bound, r, t, c, s } = work;
  for (let k = 0; k < count; k++) {
    for (let b = 0; b < blocks; b++) {
      const w = rng.block(k * blocks + b);
      for (let h = 0; h < 2 && 2 * b + h < pairs; h++) {
        r[2 * b + h] = Math.sqrt(-2 * Math.log((w[2 * h] + 1) / 4294967296));
        t[2 * b + h] = 2 * Math.PI * (w[2 * h + 1] / 4294967296);
      }
    }
    sinCosInto(t, pairs, c, s);
    // g̃_j and a bound on |g̃_j − g_j| (sin/cos error times r, and the products' roundings).
    let ss = 0, dss = 0;
    for (let j = 0; j < dim; j++) {
      const p = j >> 1, v = r[p] * ((j & 1) === 0 ? c[p] : s[p]);
      const e = r[p] * 2 * SINCOS_ERROR + Math.abs(v) * 2 ** -52;
      g[j] = v;
      bound[j] = e;
      ss += v * v;
      dss += (2 * Math.abs(v) + e) * e;
    }
    if (ss === 0) {
      exactDirection(rng, g.subarray(0, dim), k, count, out);
      continue;
    }
    // Both sums of squares round: dim·2^-51 relative covers them; then 1/sqrt's relative error.
    const inv = 1 / Math.sqrt(ss), dinv = (dss + dim * 2 ** -51 * ss) / ss + 2 ** -50;
    let ok = true;
    for (let j = 0; j < dim && ok; j++) {
      const y = g[j] * inv, eta = (bound[j] + Math.abs(g[j]) * dinv) * inv * 1.01 + Math.abs(y) * 2 ** -51;
      const low = Math.fround(y - eta);
      if (low === Math.fround(y + eta)) out[k * dim + j] = low;
      else ok = false;
    }
    if (!ok) exactDirection(rng, g.subarray(0, dim), k, count, out);
  }
  return out;
}

/** Row-major [count, dim] directions as the [dim, count] tensor `swDistance` projects with. */
export function directionsTensor(
  directions: Float32Array,
  count: number,
  dim: number,
  backend?: Backend,
): Tensor {
  if (directions.length !== count * dim) {
    throw new TensorError(
      "directionsTensor",
      `${directions.length} values; expected ${count}·${dim} for [${count}, ${dim}]`,
    );
  }
  const t = new Float32Array(count * dim);
  for (let k = 0; k < count; k++) for (let j = 0; j < dim; j++) t[j * count + k] = directions[k * dim + j];
  return tensor(t, [dim, count], { backend });
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Row indices repeating each of `rows` rows `times` times, in order: 0,0,…,1,1,… */
function repeatIndex(rows: number, times: number): Int32Array {
  const idx = new Int32Array(rows * times);
  for (let i = 0; i < idx.length; i++) idx[i] = Math.floor(i / times);
  return idx;
}

function checkP(op: string, p: number): void {
  if (!Number.isFinite(p) || p < 1) throw new TensorError(op, `p = ${p}; expected a finite p ≥ 1`);
}

/**
 * SW_p(a, b) as a [1, 1] tensor. `a` is [n, d], `b` is [m, d], `directions` is [d, P] with unit
 * columns (see `directionsTensor`, `randomDirections`). Projection: the matmul [n, d]·[d, P]
 * transposed to [P, n] (`matmulTransposed`) so that each row is one direction; then `sortRows`,
 * difference, |·|^p, mean over all P·n entries (= mean over θ of mean over i), and the 1/p power.
 * Directions are used as given (not renormalised), as POT does with `projections`. Where SW = 0
 * (identical clouds, e.g. WaCo's anchors in a batch of one input) the 1/p power has no derivative;
 * `root` gives the norm's subgradient 0 there.
 */
export function swDistance(a: Tensor, b: Tensor, directions: Tensor, p = 2): Tensor {
  const op = "swDistance";
  checkP(op, p);
  if (a.cols !== b.cols || directions.rows !== a.cols) {
    throw new TensorError(
      op,
      `a ${shapeStr(a.shape)}, b ${shapeStr(b.shape)}, directions ${shapeStr(directions.shape)}; ` +
        `expected a [n, d], b [m, d] and directions [d, P] with the same d`,
    );
  }
  if (a.rows === 0 || b.rows === 0 || directions.cols === 0) {
    throw new TensorError(
      op,
      `empty input: a ${shapeStr(a.shape)}, b ${shapeStr(b.shape)}, directions ${shapeStr(directions.shape)}`,
    );
  }
  let [aa, bb] = [a, b];
  if (a.rows !== b.rows) {
    const n = a.rows, m = b.rows, l = (n / gcd(n, m)) * m;
    if (l > MAX_LCM_FACTOR * Math.max(n, m)) {
      throw new TensorError(
        op,
        `a has ${n} rows and b ${m}; unequal sizes are handled only when lcm(n, m) = ${l} is at most ` +
          `${MAX_LCM_FACTOR}·max(n, m) (exact repetition of atoms); subsample to equal sizes instead`,
      );
    }
    aa = gatherRows(a, indexTensor(repeatIndex(n, l / n), undefined, a.backend));
    bb = gatherRows(b, indexTensor(repeatIndex(m, l / m), undefined, b.backend));
  }
  const pa = sortRows(matmulTransposed(aa, directions)).values;
  const pb = sortRows(matmulTransposed(bb, directions)).values;
  const diff = sub(pa, pb);
  const cost = p === 1 ? abs(diff) : p === 2 ? square(diff) : pow(abs(diff), p);
  const mp = mean(cost);
  return p === 1 ? mp : root(mp, p);
}

let cpu: CpuBackend | undefined;

/**
 * SW_p between row-major float32 matrices x [n, d] and y [m, d] (m = n when undefined) along the
 * given row-major [P, d] unit `directions`, computed on the CPU backend (float32). For checking
 * against other libraries: equals POT's
 * `ot.sliced_wasserstein_distance(x, y, projections=directions.T, n_projections=P, p=p)`.
 * n ≠ m only where lcm(n, m) ≤ MAX_LCM_FACTOR·max(n, m); otherwise throws asking for equal sizes.
 */
export function slicedWasserstein(
  x: Float32Array,
  y: Float32Array,
  n: number,
  m: number | undefined,
  d: number,
  directions: Float32Array,
  p = 2,
): number {
  const op = "slicedWasserstein";
  const rowsY = m ?? n;
  for (const [what, v] of [["n", n], ["m", rowsY], ["d", d]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TensorError(op, `${what} = ${v}; expected a positive integer`);
    }
  }
  if (x.length !== n * d) throw new TensorError(op, `x has ${x.length} values; expected n·d = ${n}·${d}`);
  if (y.length !== rowsY * d) {
    throw new TensorError(op, `y has ${y.length} values; expected m·d = ${rowsY}·${d}`);
  }
  if (directions.length === 0 || directions.length % d !== 0) {
    throw new TensorError(
      op,
      `directions have ${directions.length} values; expected P·d for some P ≥ 1 (d = ${d})`,
    );
  }
  checkP(op, p);
  const count = directions.length / d;
  const backend = cpu ??= new CpuBackend();
  return tidy(() => {
    const a = tensor(x, [n, d], { backend });
    const b = tensor(y, [rowsY, d], { backend });
    const sw = swDistance(a, b, directionsTensor(directions, count, d, backend), p);
    return [sw];
  }).map((t) => {
    const v = t.toArraySync()[0];
    t.dispose();
    return v;
  })[0];
}

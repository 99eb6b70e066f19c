/**
 * WebGPU backend vs plain float64 JavaScript references, on random inputs.
 *
 * Tolerances (relative to the natural scale of each result):
 *   - exact (bitwise): transpose, copyBlock, gathers, sortRows, max values and indices, and the
 *     scatter-adds, which must equal a float32 left-to-right sum in increasing source order.
 *   - matmul: |c − ref| ≤ max(1e-5, 4e-7·√k) · Σ_k |a_ik·b_kj|.
 *   - sum: |s − ref| ≤ 2e-5 · Σ|x|; logsumexp: |l − ref| ≤ 1e-5 · (1 + |ref|).
 *   - unary (vs the float32-rounded reference): 2e-6 relative for exp/log/sqrt, max(2e-6, 1.2e-7·|p|)
 *     for integer pow, 1e-4 for non-integer pow, 2e-4 for integer |p| > 64; the rest exact (plus 1e-38 absolute for
 *     subnormal flushing). binary: exact except div (1e-6 relative).
 *   - adamw: 1e-5 relative plus 2e-7 (m), 1e-9 (v), 2e-6 (param) absolute, as m and v cancel.
 *
 * The loop-limit canary runs every looping kernel where a loop dimension exceeds 65,535 (llvmpipe
 * silently stops any shader loop after 65,535 trips per invocation); a second backend with a trip
 * budget of 128 drives the split / multi-pass paths at small sizes.
 */
import assert from "node:assert/strict";
import type { Backend, BinaryOp, Shape, Storage, UnaryOp } from "../src/tensor/backend.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";
import {
  createWebGpuBackend,
  MAX_TRIPS_PER_INVOCATION,
  type WebGpuBackend,
} from "../src/tensor/backends/webgpu/backend.ts";
import { webgpuAdapter } from "./helpers.ts";

const adapter = await webgpuAdapter();
const ignore = adapter === null;
const gpu: WebGpuBackend | null = adapter ? await createWebGpuBackend(adapter) : null;
const small: WebGpuBackend | null = adapter
  ? await createWebGpuBackend(adapter, { maxTripsPerInvocation: 128 })
  : null;

function test(
  name: string,
  fn: (be: WebGpuBackend) => Promise<void>,
  backend: () => WebGpuBackend | null = () => gpu,
) {
  Deno.test({
    name: `webgpu: ${name}`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => fn(backend()!),
  });
}

// ---- helpers -----------------------------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** Small integers, so that ties are frequent. */
function randq(n: number, seed: number, levels = 7): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * levels) - Math.floor(levels / 2);
  return out;
}

function randIdx(n: number, seed: number, bound: number): Int32Array {
  const r = rng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * bound);
  return out;
}

function sameFloat(a: number, b: number): boolean {
  return Number.isNaN(a) ? Number.isNaN(b) : Object.is(a, b) || (a === b && a !== 0);
}

function assertExact(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string) {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!sameFloat(actual[i], expected[i])) {
      assert.fail(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** |actual − expected| ≤ tol[i] (per element), with NaN and ±Inf matched exactly. */
function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: (i: number) => number,
  label: string,
) {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!sameFloat(a, e) && !(a === e)) assert.fail(`${label}: element ${i} is ${a}, expected ${e}`);
      continue;
    }
    if (!(Math.abs(a - e) <= tol(i))) {
      assert.fail(`${label}: element ${i} is ${a}, expected ${e} (tolerance ${tol(i)})`);
    }
  }
}

const rel = (expected: ArrayLike<number>, r: number, abs = 0) => (i: number) =>
  r * Math.abs(expected[i]) + abs;

async function readAll(be: Backend, ...s: Storage[]): Promise<Float32Array[]> {
  return await Promise.all(s.map((x) => be.read(x)));
}

// ---- references (float64) ----------------------------------------------------------------------

function refMatmul(a: Float32Array, as: Shape, b: Float32Array, bs: Shape, tA: boolean, tB: boolean) {
  const m = tA ? as[1] : as[0], k = tA ? as[0] : as[1], n = tB ? bs[0] : bs[1];
  const A = (i: number, p: number) => tA ? a[p * as[1] + i] : a[i * as[1] + p];
  const B = (p: number, j: number) => tB ? b[j * bs[1] + p] : b[p * bs[1] + j];
  const c = new Float64Array(m * n), scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let p = 0; p < k; p++) {
        const v = A(i, p) * B(p, j);
        s += v;
        t += Math.abs(v);
      }
      c[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { c, scale, k };
}

function refUnary(op: UnaryOp, x: number, p = 0): number {
  switch (op) {
    case "neg":
      return -x;
    case "relu":
      return Number.isNaN(x) ? x : x > 0 ? x : 0;
    case "exp":
      return Math.exp(x);
    case "log":
      return Math.log(x);
    case "sqrt":
      return Math.sqrt(x);
    case "abs":
      return Math.abs(x);
    case "sign":
      return Math.sign(x);
    case "step":
      return x > 0 ? 1 : 0;
    case "pow":
      return !Number.isInteger(p) && x < 0 ? NaN : Math.pow(x, p);
    case "scale":
      return x * p;
    case "shift":
      return x + p;
  }
}

function refBinary(op: BinaryOp, x: number, y: number): number {
  switch (op) {
    case "add":
      return x + y;
    case "sub":
      return x - y;
    case "mul":
      return x * y;
    case "div":
      return x / y;
    case "max":
      return Math.max(x, y);
    case "min":
      return Math.min(x, y);
  }
}

/** Order used by max and sortRows: NaN above +Inf, -0 equal to +0. */
function cmp(a: number, b: number): number {
  const na = Number.isNaN(a), nb = Number.isNaN(b);
  if (na || nb) return na && nb ? 0 : na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function refReduce(x: Float32Array, [r, c]: Shape, axis: 0 | 1) {
  const nOut = axis === 0 ? c : r, len = axis === 0 ? r : c;
  const at = (o: number, t: number) => axis === 0 ? x[t * c + o] : x[o * c + t];
  const sum = new Float64Array(nOut), abs = new Float64Array(nOut);
  const max = new Float64Array(nOut), arg = new Int32Array(nOut);
  const lse = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let s = 0, a = 0, best = 0, m = -Infinity;
    for (let t = 0; t < len; t++) {
      const v = at(o, t);
      s += v;
      a += Math.abs(v);
      if (t === 0 || cmp(v, at(o, best)) > 0) best = t;
      if (v > m || Number.isNaN(v)) m = Number.isNaN(m) ? m : v;
    }
    sum[o] = s;
    abs[o] = a;
    max[o] = at(o, best);
    arg[o] = best;
    if (Number.isNaN(m) || !Number.isFinite(m)) lse[o] = m;
    else {
      let e = 0;
      for (let t = 0; t < len; t++) e += Math.exp(at(o, t) - m);
      lse[o] = m + Math.log(e);
    }
  }
  return { sum, abs, max, arg, lse };
}

function refSortRows(x: ArrayLike<number>, [r, c]: Shape) {
  const values = new Float32Array(r * c), indices = new Int32Array(r * c);
  for (let i = 0; i < r; i++) {
    const order = Array.from({ length: c }, (_, j) => j);
    order.sort((p, q) => cmp(x[i * c + p], x[i * c + q]) || p - q);
    order.forEach((j, t) => {
      values[i * c + t] = x[i * c + j];
      indices[i * c + t] = j;
    });
  }
  return { values, indices };
}

/** float32 left-to-right sums in increasing source order, as the contract demands. */
function refScatterRows(src: Float32Array, [n, cols]: Shape, idx: Int32Array, rows: number) {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cols; j++) {
      out[idx[i] * cols + j] = Math.fround(out[idx[i] * cols + j] + src[i * cols + j]);
    }
  }
  return out;
}

function refScatterElems(src: Float32Array, [r, k]: Shape, idx: Int32Array, cols: number) {
  const out = new Float32Array(r * cols);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < k; j++) {
      out[i * cols + idx[i * k + j]] = Math.fround(out[i * cols + idx[i * k + j]] + src[i * k + j]);
    }
  }
  return out;
}

// ---- checks shared by the normal, small-budget and canary tests --------------------------------

/** `spike`: op(A)[:, k−1] = op(B)[k−1, :] = 64, so a loop that stops early is off by ≥ 4096. */
async function checkMatmul(
  be: Backend,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
  seed: number,
  spike = false,
) {
  const as: Shape = tA ? [k, m] : [m, k], bs: Shape = tB ? [n, k] : [k, n];
  const a = randn(m * k, seed), b = randn(k * n, seed + 1);
  if (spike) {
    for (let i = 0; i < m; i++) a[tA ? (k - 1) * m + i : i * k + k - 1] = 64;
    for (let j = 0; j < n; j++) b[tB ? j * k + k - 1 : (k - 1) * n + j] = 64;
  }
  const sa = be.upload(a), sb = be.upload(b);
  const out = await be.read(be.matmul(sa, as, sb, bs, tA, tB));
  const ref = refMatmul(a, as, b, bs, tA, tB);
  const r = Math.max(1e-5, 4e-7 * Math.sqrt(k));
  assertClose(out, ref.c, (i) => r * ref.scale[i] + 1e-30, `matmul ${m}x${k}x${n} tA=${tA} tB=${tB}`);
}

async function checkReduce(be: Backend, x: Float32Array, shape: Shape, axes: (0 | 1)[] = [0, 1], lse = true) {
  const s = be.upload(x);
  for (const axis of axes) {
    const ref = refReduce(x, shape, axis);
    const label = `[${shape}] axis ${axis}`;
    const sum = await be.read(be.sum(s, shape, axis));
    assertClose(sum, ref.sum, (i) => 2e-5 * ref.abs[i] + 1e-7, `sum ${label}`);
    const mx = be.max(s, shape, axis);
    assertExact(await be.read(mx.values), ref.max, `max values ${label}`);
    assertExact(await be.readIndex(mx.indices), ref.arg, `max indices ${label}`);
    if (axis === 1 && lse) {
      const l = await be.read(be.logsumexp(s, shape));
      assertClose(l, ref.lse, (i) => 1e-5 * (1 + Math.abs(ref.lse[i])), `logsumexp ${label}`);
    }
  }
}

async function checkSort(be: Backend, x: Float32Array, shape: Shape) {
  const { values, indices } = be.sortRows(be.upload(x), shape);
  const ref = refSortRows(x, shape);
  assertExact(await be.readIndex(indices), ref.indices, `sortRows [${shape}] indices`);
  assertExact(await be.read(values), ref.values, `sortRows [${shape}] values`);
}

async function checkScatterRows(be: Backend, n: number, cols: number, rows: number, seed: number) {
  const src = randn(n * cols, seed), idx = randIdx(n, seed + 1, rows);
  await checkScatterRowsWith(be, src, idx, n, cols, rows);
}

async function checkScatterRowsWith(
  be: Backend,
  src: Float32Array,
  idx: Int32Array,
  n: number,
  cols: number,
  rows: number,
) {
  const out = await be.read(be.scatterAddRows(be.upload(src), [n, cols], be.uploadIndex(idx), rows));
  assertExact(
    out,
    refScatterRows(src, [n, cols], idx, rows),
    `scatterAddRows n=${n} cols=${cols} rows=${rows}`,
  );
}

async function checkElems(
  be: Backend,
  r: number,
  c: number,
  k: number,
  seed: number,
  idx = randIdx(r * k, seed + 1, c),
) {
  const a = randn(r * c, seed), src = randn(r * k, seed + 2);
  const g = await be.read(be.gatherElems(be.upload(a), [r, c], be.uploadIndex(idx), k));
  const gref = new Float32Array(r * k);
  for (let i = 0; i < r * k; i++) gref[i] = a[Math.floor(i / k) * c + idx[i]];
  assertExact(g, gref, `gatherElems r=${r} c=${c} k=${k}`);
  const s = await be.read(be.scatterAddElems(be.upload(src), [r, k], be.uploadIndex(idx), c));
  assertExact(s, refScatterElems(src, [r, k], idx, c), `scatterAddElems r=${r} k=${k} cols=${c}`);
}

// ---- tests -------------------------------------------------------------------------------------

test("backend identity and trip budget", async (be) => {
  assert.equal(be.name, "webgpu");
  assert.ok(be.device.length > 0);
  assert.equal(be.maxTripsPerInvocation, MAX_TRIPS_PER_INVOCATION);
  assert.ok(MAX_TRIPS_PER_INVOCATION < 65535);
  await assert.rejects(
    () => createWebGpuBackend(adapter!, { maxTripsPerInvocation: 70000 }),
    /maxTripsPerInvocation/,
  );
});

test("memory: upload, zeros, read, dispose, pool reuse", async (be) => {
  const x = randn(1000, 1);
  const s = be.upload(x);
  assertExact(await be.read(s), x, "upload/read");
  const idx = new Int32Array([3, -1, 2147483647, 0]);
  assertExact(await be.readIndex(be.uploadIndex(idx)), idx, "uploadIndex/readIndex");
  be.dispose(s);
  be.dispose(s); // idempotent
  assert.throws(() => be.unary("neg", s, 1000), /disposed/);
  await assert.rejects(() => be.read(s), /disposed/);
  // A pooled buffer that held data must come back zeroed from zeros().
  for (let i = 0; i < 3; i++) {
    const t = be.upload(randn(1000, 10 + i));
    be.dispose(t);
    assertExact(await be.read(be.zeros(1000)), new Float32Array(1000), "zeros after reuse");
  }
  assert.equal((await be.read(be.zeros(0))).length, 0);
  // Disposing mid-batch must not corrupt work already recorded on that buffer.
  const a = be.upload(x);
  const b = be.unary("scale", a, 1000, 2);
  be.dispose(a);
  const c = be.upload(randn(1000, 99)); // likely reuses a's bucket
  assertExact(await be.read(b), x.map((v) => v * 2), "dispose mid-batch");
  be.dispose(c);
  await be.sync();
});

test("matmul: all transpose variants, ragged shapes", async (be) => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    await checkMatmul(be, 67, 45, 33, tA, tB, 1);
    await checkMatmul(be, 1, 130, 70, tA, tB, 2);
    await checkMatmul(be, 128, 16, 64, tA, tB, 3);
  }
  await checkMatmul(be, 5, 1, 7, false, false, 4);
  const z = await be.read(be.matmul(be.zeros(0), [3, 0], be.zeros(0), [0, 4], false, false));
  assertExact(z, new Float32Array(12), "matmul k = 0");
  const a = be.upload(randn(200 * 300, 5)), b = be.upload(randn(300 * 100, 6));
  const [r1, r2] = await readAll(
    be,
    be.matmul(a, [200, 300], b, [300, 100], false, false),
    be.matmul(a, [200, 300], b, [300, 100], false, false),
  );
  assertExact(r1, r2, "matmul deterministic");
});

test("unary: every op, special values", async (be) => {
  const x = new Float32Array([
    ...randn(500, 7, 4),
    0,
    -0,
    1,
    -1,
    2.5,
    -2.5,
    Infinity,
    -Infinity,
    NaN,
    1e-3,
    80,
    -80,
    100,
    -200,
  ]);
  const s = be.upload(x);
  const cases: [UnaryOp, number?][] = [
    ["neg"],
    ["relu"],
    ["exp"],
    ["log"],
    ["sqrt"],
    ["abs"],
    ["sign"],
    ["step"],
    ["scale", -1.5],
    ["shift", 0.25],
    ["pow", 2],
    ["pow", 3],
    ["pow", 0],
    ["pow", 1],
    ["pow", -1],
    ["pow", -2],
    ["pow", 7],
    ["pow", 64],
    ["pow", 0.5],
    ["pow", 1.5],
    ["pow", -0.5],
    ["pow", 2.25],
    ["pow", 101],
    ["pow", 100],
    ["pow", NaN],
  ];
  for (const [op, p] of cases) {
    const out = await be.read(be.unary(op, s, x.length, p));
    // Rounded to float32, so that overflow is expected as ±Inf; results in the float32 subnormal
    // range may be flushed to zero (1e-38 absolute).
    const ref = Array.from(x, (v) => Math.fround(refUnary(op, v, p)));
    // Integer pow multiplies log2|p| times: the rounding error grows like |p| · 2^-24.
    const r = op === "pow"
      ? (Number.isInteger(p) ? Math.max(2e-6, 1.2e-7 * Math.abs(p!)) : 1e-4)
      : ["exp", "log", "sqrt"].includes(op)
      ? 2e-6
      : 0;
    const bigPow = op === "pow" && Math.abs(p!) > 64;
    assertClose(
      out,
      ref,
      (i) => (bigPow ? 2e-4 : r) * Math.abs(ref[i]) + (op === "log" ? 1e-7 : 0) + 1e-38,
      `unary ${op} ${p ?? ""}`,
    );
  }
});

test("fused biasRelu and reluGrad: bit for bit the cpu backend's (add/relu and step/mul)", async (be) => {
  const cpu = new CpuBackend();
  const r = 37, c = 70;
  const a = randn(r * c, 901, 3), bias = randn(c, 902, 1), g = randn(r * c, 903, 2);
  a.set([0, -0, Infinity, -Infinity, NaN, 0.5, -0.5]);
  bias.set([-0, 0, 1, 1, 1, -0.5, 0.5]);
  g.set([-1, -0, Infinity, NaN, -2, Infinity, -Infinity]);
  const bits = (f: Float32Array) => Array.from(new Int32Array(f.buffer));
  const fused = be.biasRelu(be.upload(a), [r, c], be.upload(bias));
  const want = cpu.biasRelu(cpu.upload(a), [r, c], cpu.upload(bias));
  assert.deepEqual(bits(await be.read(fused)), bits(cpu.readSync(want)), "biasRelu");
  const got = await be.read(be.reluGrad(be.upload(g), fused, r * c));
  assert.deepEqual(bits(got), bits(cpu.readSync(cpu.reluGrad(cpu.upload(g), want, r * c))), "reluGrad");
});

test("binary: every op and broadcast pattern", async (be) => {
  const r = 13, c = 29;
  const shapes: Shape[] = [[r, c], [1, c], [r, 1], [1, 1]];
  const ops: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min"];
  let seed = 100;
  for (const as of shapes) {
    for (const bs of shapes) {
      const a = randq(as[0] * as[1], seed++, 9), b = randn(bs[0] * bs[1], seed++, 3);
      const sa = be.upload(a), sb = be.upload(b);
      const out: Shape = [Math.max(as[0], bs[0]), Math.max(as[1], bs[1])];
      for (const op of ops) {
        const got = await be.read(be.binary(op, sa, as, sb, bs, out));
        const ref = new Float64Array(out[0] * out[1]);
        for (let i = 0; i < out[0]; i++) {
          for (let j = 0; j < out[1]; j++) {
            const u = a[(as[0] === 1 ? 0 : i) * as[1] + (as[1] === 1 ? 0 : j)];
            const v = b[(bs[0] === 1 ? 0 : i) * bs[1] + (bs[1] === 1 ? 0 : j)];
            ref[i * out[1] + j] = Math.fround(refBinary(op, u, v));
          }
        }
        assertClose(got, ref, rel(ref, op === "div" ? 1e-6 : 0), `binary ${op} [${as}] [${bs}]`);
      }
    }
  }
  const sp = new Float32Array([0, -0, 1, -1, NaN, Infinity, 2, -0]);
  const sq = new Float32Array([0, 0, 0, -0, 1, 1, NaN, 0]);
  const sa = be.upload(sp), sb = be.upload(sq);
  for (const op of ops) {
    const got = await be.read(be.binary(op, sa, [1, 8], sb, [1, 8], [1, 8]));
    assertExact(
      got,
      Array.from(sp, (u, i) => Math.fround(refBinary(op, u, sq[i]))),
      `binary ${op} special values`,
    );
  }
});

test("reductions: sum, max, logsumexp over both axes", async (be) => {
  await checkReduce(be, randn(37 * 53, 20, 5), [37, 53]);
  await checkReduce(be, randq(64 * 700, 21), [64, 700]); // coop path, ties
  await checkReduce(be, randn(3000 * 3, 22, 10), [3000, 3]); // multi-pass axis 0
  await checkReduce(be, randn(2 * 100000, 23, 3), [2, 100000]); // coop, several chunks per row
  await checkReduce(be, randn(1 * 1, 24), [1, 1]);
  const special = new Float32Array([
    ...[1, 2, NaN, 3, NaN], // NaN wins, first NaN
    ...[-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
    ...[1, Infinity, 2, Infinity, -Infinity],
    ...[1000, 999, 998, -1000, 1000], // large: needs max shift
    ...[-0, 0, -0, 0, -1],
  ]);
  await checkReduce(be, special, [5, 5], [1]);
  const x = be.upload(randn(500 * 300, 25));
  const [a, b] = await readAll(be, be.sum(x, [500, 300], 0), be.sum(x, [500, 300], 0));
  assertExact(a, b, "sum deterministic");
});

test("sortRows: stable ascending, NaN after +Inf", async (be) => {
  await checkSort(be, randq(5 * 7, 30), [5, 7]);
  await checkSort(be, randq(300 * 5, 31), [300, 5]);
  await checkSort(be, randn(3 * 1000, 32), [3, 1000]);
  await checkSort(be, randq(2 * 3000, 33, 50), [2, 3000]); // global stages
  await checkSort(be, randq(1 * 1, 34), [1, 1]);
  const special = new Float32Array([NaN, 3, -0, Infinity, 0, -Infinity, NaN, 3, -1, 0, -0, 1e-40]);
  await checkSort(be, special, [1, 12]);
  await checkSort(be, special, [2, 6]);
});

test("gatherRows / scatterAddRows", async (be) => {
  const a = randn(20 * 9, 40), idx = randIdx(50, 41, 20);
  const g = await be.read(be.gatherRows(be.upload(a), [20, 9], be.uploadIndex(idx), 50));
  const ref = new Float32Array(50 * 9);
  for (let i = 0; i < 50; i++) for (let j = 0; j < 9; j++) ref[i * 9 + j] = a[idx[i] * 9 + j];
  assertExact(g, ref, "gatherRows");
  await checkScatterRows(be, 50, 9, 20, 42);
  await checkScatterRows(be, 3000, 5, 7, 43);
  await checkScatterRows(be, 1, 1, 1, 44);
  await checkScatterRows(be, 40, 3, 100, 45); // most rows receive nothing
  const z = await be.read(be.scatterAddRows(be.zeros(0), [0, 4], be.uploadIndex(new Int32Array(0)), 3));
  assertExact(z, new Float32Array(12), "scatterAddRows with no sources");
});

test("gatherElems / scatterAddElems", async (be) => {
  await checkElems(be, 16, 10, 1, 50);
  await checkElems(be, 7, 5, 40, 51);
  await checkElems(be, 3, 200, 3000, 52);
});

test("transpose and copyBlock", async (be) => {
  for (const [r, c] of [[1, 1], [17, 33], [64, 16], [3, 100]] as const) {
    const x = randn(r * c, r + c);
    const t = await be.read(be.transpose(be.upload(x), [r, c]));
    const ref = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) ref[j * r + i] = x[i * c + j];
    assertExact(t, ref, `transpose [${r}, ${c}]`);
  }
  const src = randn(10 * 12, 60);
  const dst = be.zeros(8 * 9);
  be.copyBlock(be.upload(src), [10, 12], 2, 3, dst, [8, 9], 1, 4, 5, 5);
  const ref = new Float32Array(8 * 9);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) ref[(1 + i) * 9 + 4 + j] = src[(2 + i) * 12 + 3 + j];
  }
  assertExact(await be.read(dst), ref, "copyBlock");
});

test("adamw: several steps vs float64", async (be) => {
  const n = 1000;
  const p0 = randn(n, 70), grads = [randn(n, 71), randn(n, 72), randn(n, 73)];
  const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
  const p = be.upload(p0), m = be.zeros(n), v = be.zeros(n);
  const rp = Float64Array.from(p0), rm = new Float64Array(n), rv = new Float64Array(n);
  for (let t = 1; t <= 3; t++) {
    const g = grads[t - 1];
    be.adamw(p, be.upload(g), m, v, n, { ...h, step: t });
    for (let i = 0; i < n; i++) {
      rm[i] = h.beta1 * rm[i] + (1 - h.beta1) * g[i];
      rv[i] = h.beta2 * rv[i] + (1 - h.beta2) * g[i] * g[i];
      const mh = rm[i] / (1 - h.beta1 ** t), vh = rv[i] / (1 - h.beta2 ** t);
      rp[i] = rp[i] - h.lr * h.weightDecay * rp[i] - h.lr * mh / (Math.sqrt(vh) + h.eps);
    }
  }
  const [gp, gm, gv] = await readAll(be, p, m, v);
  // Absolute terms: m and v partly cancel (|g| ≤ 1), and p inherits lr × that relative error.
  assertClose(gp, rp, (i) => 1e-5 * Math.abs(rp[i]) + 2e-6, "adamw param");
  assertClose(gm, rm, (i) => 1e-5 * Math.abs(rm[i]) + 2e-7, "adamw m");
  assertClose(gv, rv, (i) => 1e-5 * Math.abs(rv[i]) + 1e-9, "adamw v");
});

test("dispatch grids beyond 65,535 workgroups per dimension", async (be) => {
  const n = 65535 * 256 + 1000; // unary: more workgroups than one grid dimension holds
  const x = new Float32Array(n);
  for (let i = 0; i < n; i += 997) x[i] = i;
  const y = await be.read(be.unary("shift", be.upload(x), n, 1));
  for (let i = 0; i < n; i += 997) assert.equal(y[i], Math.fround(i + 1));
  assert.equal(y[n - 1], x[n - 1] + 1);
  const c = 16 * 65540; // transpose: 65,540 tiles
  const t = randn(c, 80);
  assertExact(await be.read(be.transpose(be.upload(t), [1, c])), t, "transpose [1, 1048640]");
});

// ---- small trip budget: the split / multi-pass paths at small sizes ----------------------------

test("budget 128: every looping kernel splits correctly", async (be) => {
  assert.equal(be.maxTripsPerInvocation, 128);
  await checkMatmul(be, 9, 5000, 7, false, false, 90, true); // 3 K ranges
  await checkMatmul(be, 9, 5000, 7, true, true, 91, true);
  await checkReduce(be, randn(1000 * 3, 92), [1000, 3]);
  await checkReduce(be, randn(3 * 40000, 93), [3, 40000]);
  await checkReduce(be, randn(7 * 300, 94), [7, 300]);
  await checkSort(be, randq(2 * 2500, 95, 40), [2, 2500]);
  await checkScatterRows(be, 1000, 3, 4, 96);
  await checkElems(be, 2, 6, 1000, 97);
}, () => small);

// ---- loop-limit canary: loop dimensions beyond 65,535 on the default budget --------------------

const BIG = 70000;

test("canary: matmul with inner dimension 70,000 and 1,050,000", async (be) => {
  await checkMatmul(be, 2, BIG, 3, false, false, 200, true);
  await checkMatmul(be, 2, BIG, 3, true, true, 201, true);
  // The tiled kernel loops once per 16-wide K tile: 1,050,000 / 16 > 65,535 tiles.
  await checkMatmul(be, 2, 1_050_000, 3, false, true, 202, true);
  await checkMatmul(be, 2, 1_050_000, 3, true, false, 203, true);
});

test("canary: sum / max / logsumexp over 70,000-long rows and columns", async (be) => {
  await checkReduce(be, randn(BIG, 210, 4), [1, BIG], [1]);
  await checkReduce(be, randn(BIG, 211, 4), [BIG, 1], [0]);
  await checkReduce(be, randn(2 * BIG, 212, 4), [2, BIG], [1]);
  await checkReduce(be, randn(2 * BIG, 213, 4), [BIG, 2], [0]);
  // The maximum sits at the very end, where a truncated loop would never look.
  const x = randn(BIG, 214);
  x[BIG - 1] = 50;
  await checkReduce(be, x, [1, BIG], [1]);
  await checkReduce(be, x, [BIG, 1], [0], false);
});

test("canary: sortRows of a 1×70,000 row", async (be) => {
  await checkSort(be, randq(BIG, 220, 1000), [1, BIG]);
});

test("canary: scatterAddRows with 70,000 sources into 3 rows and into 1 row", async (be) => {
  await checkScatterRows(be, BIG, 2, 3, 230);
  // Every source lands on row 0: one run of 70,000 sources to sum.
  await checkScatterRowsWith(be, randn(BIG * 2, 231), new Int32Array(BIG), BIG, 2, 1);
});

test("canary: gatherElems / scatterAddElems with k = 70,000", async (be) => {
  await checkElems(be, 2, 5, BIG, 240);
  // Every element of a row lands on column 0: one run of 70,000 per row.
  await checkElems(be, 2, 1, BIG, 241, new Int32Array(2 * BIG));
});

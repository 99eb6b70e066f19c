/**
 * Direct checks of every CpuBackend primitive against straightforward float64 loops on seeded
 * random inputs, plus bit-for-bit determinism and the disposed-storage errors.
 */
import assert from "node:assert/strict";
import type { BinaryOp, Shape, Storage, UnaryOp } from "../src/tensor/backend.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";
import { ORT_MIN_MACS } from "../src/tensor/backends/cpu_matmul.ts";
import { CpuBufferPool, MAX_POOLED_BYTES, MIN_POOLED } from "../src/tensor/backends/cpu_buffer_pool.ts";

const be = new CpuBackend();

/** Seeded float32 uniforms in [lo, hi) (mulberry32; independent of the project RNG). */
function rand(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

function randInt(seed: number, n: number, bound: number): Int32Array {
  const u = rand(seed, n, 0, 1);
  return Int32Array.from(u, (x) => Math.min(bound - 1, Math.floor(x * bound)));
}

function read(s: Storage): Float32Array {
  return be.readSync(s);
}

/** |got − want| ≤ atol + rtol·|want| elementwise (NaNs must match). */
function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-6, atol = 1e-6, what = ""): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w)) {
      assert.ok(Number.isNaN(g), `${what}[${i}]: got ${g}, want NaN`);
      continue;
    }
    if (g === w) continue;
    assert.ok(Math.abs(g - w) <= atol + rtol * Math.abs(w), `${what}[${i}]: got ${g}, want ${w}`);
  }
}

function sameBits(x: Float32Array, y: Float32Array, what: string): void {
  assert.deepEqual(
    new Uint32Array(x.buffer, x.byteOffset, x.length),
    new Uint32Array(y.buffer, y.byteOffset, y.length),
    what,
  );
}

// ---- memory ------------------------------------------------------------------------------

Deno.test("cpu: upload/read/zeros/index round trips, dispose errors", async () => {
  assert.equal(be.name, "cpu");
  assert.ok(be.device.length > 0);
  const x = rand(1, 10);
  const s = be.upload(x);
  x[0] = 99; // upload copied
  assert.notEqual(read(s)[0], 99);
  assert.equal(s.length, 10);
  const back = await be.read(s);
  back[1] = 42; // read returns a copy
  assert.notEqual(read(s)[1], 42);
  assert.deepEqual(read(be.zeros(5)), new Float32Array(5));
  const idx = be.uploadIndex(Int32Array.of(3, -1, 7));
  assert.deepEqual(await be.readIndex(idx), Int32Array.of(3, -1, 7));
  await be.sync();

  be.dispose(s);
  be.dispose(s); // idempotent
  assert.throws(() => be.readSync(s), /disposed/);
  assert.throws(() => be.unary("neg", s, 10), /disposed/);
  await assert.rejects(be.read(s), /disposed/);
  assert.throws(() => be.readSync(idx), /index storage/);
  await assert.rejects(be.readIndex(be.zeros(1)), /float storage/);
});

// ---- matmul ------------------------------------------------------------------------------

function refMatmul(a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, ta: boolean, tb: boolean) {
  const m = ta ? aShape[1] : aShape[0], k = ta ? aShape[0] : aShape[1], n = tb ? bShape[0] : bShape[1];
  const out = new Float64Array(m * n), mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let p = 0; p < k; p++) {
        const x = ta ? a[p * aShape[1] + i] : a[i * aShape[1] + p];
        const y = tb ? b[j * bShape[1] + p] : b[p * bShape[1] + j];
        s += x * y;
        t += Math.abs(x * y);
      }
      out[i * n + j] = s;
      mag[i * n + j] = t;
    }
  }
  return { out, mag };
}

function checkMatmul(m: number, k: number, n: number, seed: number): void {
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const aShape: Shape = ta ? [k, m] : [m, k], bShape: Shape = tb ? [n, k] : [k, n];
      const a = rand(seed, m * k), b = rand(seed + 1, k * n);
      const A = be.upload(a), B = be.upload(b);
      const got = read(be.matmul(A, aShape, B, bShape, ta, tb));
      const { out, mag } = refMatmul(a, aShape, b, bShape, ta, tb);
      assert.equal(got.length, m * n);
      for (let i = 0; i < got.length; i++) {
        // Relative to the magnitude of the summed products (cancellation-safe).
        assert.ok(
          Math.abs(got[i] - out[i]) <= 1e-5 * mag[i] + 1e-30,
          `matmul ${m}x${k}x${n} t${+ta}${+tb} [${i}]: got ${got[i]}, want ${out[i]}`,
        );
      }
      sameBits(got, read(be.matmul(A, aShape, B, bShape, ta, tb)), `matmul t${+ta}${+tb} determinism`);
    }
  }
}

Deno.test("cpu: matmul, all four transpose combinations, large (onnxruntime) and small (JS)", () => {
  assert.ok(97 * 131 * 75 >= ORT_MIN_MACS && 5 * 7 * 3 < ORT_MIN_MACS);
  assert.match(be.gemm, /^onnxruntime/, "onnxruntime-node should load here");
  checkMatmul(97, 131, 75, 10); // through onnxruntime where it loads
  checkMatmul(5, 7, 3, 20); // JS
  checkMatmul(3, 40, 30, 30); // JS, n ≥ 16 row-accumulation path
  checkMatmul(1, 256, 64, 40); // vector-matrix
  checkMatmul(64, 256, 1, 50); // matrix-vector
});

Deno.test("cpu: matmul with an empty dimension", () => {
  const z = be.matmul(
    be.upload(new Float32Array(0)),
    [3, 0],
    be.upload(new Float32Array(0)),
    [0, 4],
    false,
    false,
  );
  assert.deepEqual(read(z), new Float32Array(12));
  assert.equal(be.matmul(be.zeros(0), [0, 5], be.zeros(10), [5, 2], false, false).length, 0);
});

Deno.test("cpu: matmul determinism at the benchmark shape's scale", () => {
  const a = be.upload(rand(60, 256 * 384)), b = be.upload(rand(61, 384 * 512));
  for (const [ta, tb] of [[false, false], [true, true]]) {
    const as: Shape = ta ? [384, 256] : [256, 384], bs: Shape = tb ? [512, 384] : [384, 512];
    sameBits(read(be.matmul(a, as, b, bs, ta, tb)), read(be.matmul(a, as, b, bs, ta, tb)), "big matmul");
  }
});

// ---- elementwise -------------------------------------------------------------------------

Deno.test("cpu: unary ops", () => {
  const x = rand(70, 200, -3, 3);
  x.set([0, -0, 1, -1, 2, -2, Infinity, -Infinity, NaN], 0);
  const X = be.upload(x);
  const cases: [UnaryOp, (v: number) => number, number?][] = [
    ["neg", (v) => -v],
    ["relu", (v) => (v > 0 ? v : Number.isNaN(v) ? NaN : 0)],
    ["exp", Math.exp],
    ["log", Math.log],
    ["sqrt", Math.sqrt],
    ["abs", Math.abs],
    ["sign", (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0)],
    ["step", (v) => (v > 0 ? 1 : 0)],
    ["scale", (v) => v * 0.37, 0.37],
    ["shift", (v) => v - 1.5, -1.5],
    ["pow", (v) => v * v * v, 3],
    ["pow", (v) => v * v, 2],
    ["pow", (v) => 1 / (v * v), -2],
    ["pow", () => 1, 0],
    ["pow", (v) => Math.pow(v, 0.5), 0.5],
    ["pow", (v) => Math.pow(v, 1.7), 1.7],
  ];
  for (const [op, f, p] of cases) {
    const got = read(be.unary(op, X, x.length, p));
    close(got, Array.from(x, (v) => Math.fround(f(v))), 1e-6, 0, `${op}(${p ?? ""})`);
  }
  const cubes = read(be.unary("pow", be.upload(Float32Array.of(-2, -3, 2, -0.5)), 4, 3));
  assert.deepEqual(Array.from(cubes), [-8, -27, 8, -0.125]);
  const roots = read(be.unary("pow", be.upload(Float32Array.of(-4, 4)), 2, 0.5));
  assert.ok(Number.isNaN(roots[0]));
  assert.equal(roots[1], 2);
  const signs = read(be.unary("sign", be.upload(Float32Array.of(-0, 0, -5, 5)), 4));
  assert.deepEqual(Array.from(signs).map((v) => v + 0), [0, 0, -1, 1]);
});

const BINARY: [BinaryOp, (x: number, y: number) => number][] = [
  ["add", (x, y) => x + y],
  ["sub", (x, y) => x - y],
  ["mul", (x, y) => x * y],
  ["div", (x, y) => x / y],
  ["max", Math.max],
  ["min", Math.min],
];

Deno.test("cpu: binary ops with every broadcast pair", () => {
  const R = 7, C = 33;
  const shapes: Shape[] = [[R, C], [1, C], [R, 1], [1, 1]];
  for (const aShape of shapes) {
    for (const bShape of shapes) {
      const outShape: Shape = [Math.max(aShape[0], bShape[0]), Math.max(aShape[1], bShape[1])];
      const a = rand(80, aShape[0] * aShape[1], -2, 2), b = rand(81, bShape[0] * bShape[1], 0.5, 2);
      const A = be.upload(a), B = be.upload(b);
      for (const [op, f] of BINARY) {
        const got = read(be.binary(op, A, aShape, B, bShape, outShape));
        const want = new Float64Array(outShape[0] * outShape[1]);
        for (let i = 0; i < outShape[0]; i++) {
          for (let j = 0; j < outShape[1]; j++) {
            const x = a[(aShape[0] === 1 ? 0 : i) * aShape[1] + (aShape[1] === 1 ? 0 : j)];
            const y = b[(bShape[0] === 1 ? 0 : i) * bShape[1] + (bShape[1] === 1 ? 0 : j)];
            want[i * outShape[1] + j] = Math.fround(f(x, y));
          }
        }
        // Exactly rounded: float64 then float32 equals the float32 operation.
        close(got, want, 0, 0, `${op} [${aShape}] [${bShape}]`);
      }
    }
  }
});

// ---- reductions --------------------------------------------------------------------------

Deno.test("cpu: sum over both axes", () => {
  const r = 37, c = 53, x = rand(90, r * c);
  const X = be.upload(x);
  const s0 = new Float64Array(c), s1 = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      s0[j] += x[i * c + j];
      s1[i] += x[i * c + j];
    }
  }
  close(read(be.sum(X, [r, c], 0)), s0, 1e-6, 1e-6, "sum axis 0");
  close(read(be.sum(X, [r, c], 1)), s1, 1e-6, 1e-6, "sum axis 1");
});

Deno.test("cpu: max over both axes returns the first maximum", async () => {
  const r = 20, c = 30;
  const x = rand(100, r * c);
  for (let i = 0; i < r * c; i += 7) x[i] = 0.9999; // ties (uniforms are < 1)
  const X = be.upload(x);
  for (const axis of [0, 1] as const) {
    const { values, indices } = be.max(X, [r, c], axis);
    const n = axis === 0 ? c : r, len = axis === 0 ? r : c;
    const v = read(values), ix = await be.readIndex(indices);
    for (let o = 0; o < n; o++) {
      let best = -Infinity, at = -1;
      for (let t = 0; t < len; t++) {
        const val = axis === 0 ? x[t * c + o] : x[o * c + t];
        if (val > best) {
          best = val;
          at = t;
        }
      }
      assert.equal(v[o], best, `max axis ${axis} value ${o}`);
      assert.equal(ix[o], at, `max axis ${axis} index ${o}`);
    }
  }
});

Deno.test("cpu: logsumexp is stable", () => {
  const r = 6, c = 40;
  const x = rand(110, r * c, -5, 5);
  for (let j = 0; j < c; j++) {
    x[c + j] += 1000; // large: naive exp overflows
    x[2 * c + j] -= 1000;
    x[3 * c + j] = -Infinity;
  }
  x[4 * c + 3] = Infinity;
  const got = read(be.logsumexp(be.upload(x), [r, c]));
  const want = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, x[i * c + j]);
    if (!Number.isFinite(m)) {
      want[i] = m;
      continue;
    }
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(x[i * c + j] - m);
    want[i] = m + Math.log(s);
  }
  close(got, want, 1e-6, 1e-6, "logsumexp");
  assert.equal(got[3], -Infinity);
  assert.equal(got[4], Infinity);
});

// ---- sorting -----------------------------------------------------------------------------

function refSort(row: Float32Array): number[] {
  const order = Array.from(row, (_, j) => j);
  const rank = (v: number) => (Number.isNaN(v) ? 1 : 0);
  // Array.prototype.sort is stable; NaN after everything, -0 equal to +0.
  return order.sort((p, q) =>
    rank(row[p]) - rank(row[q]) || (row[p] < row[q] ? -1 : row[p] > row[q] ? 1 : 0)
  );
}

Deno.test("cpu: sortRows is stable, NaN last, on radix and insertion paths", async () => {
  for (const c of [1, 5, 24, 25, 300]) {
    const r = 9;
    const x = rand(120 + c, r * c, -4, 4);
    for (let i = 0; i < x.length; i++) if (i % 3 === 0) x[i] = Math.round(x[i]); // many ties
    const specials = [NaN, Infinity, -Infinity, 0, -0, -NaN, 1e-45, -1e-45, 3.4e38, -3.4e38];
    for (let i = 0; i < x.length; i += 4) x[i] = specials[(i >> 2) % specials.length];
    x.fill(2.5, 0, c); // an all-equal row
    if (c > 2) new Uint32Array(x.buffer).fill(0xffc00000, c + 1, c + 2); // a NaN with the sign bit set
    const { values, indices } = be.sortRows(be.upload(x), [r, c]);
    const v = read(values), ix = await be.readIndex(indices);
    for (let i = 0; i < r; i++) {
      const row = x.subarray(i * c, (i + 1) * c);
      const want = refSort(row);
      assert.deepEqual(Array.from(ix.subarray(i * c, (i + 1) * c)), want, `sortRows c=${c} row ${i} indices`);
      sameBits(
        v.subarray(i * c, (i + 1) * c),
        Float32Array.from(want, (j) => row[j]),
        `sortRows c=${c} values`,
      );
    }
  }
  const empty = be.sortRows(be.zeros(0), [3, 0]);
  assert.equal(empty.values.length, 0);
});

// The speed of sortRows at the sliced-Wasserstein shape is measured by `deno task bench`
// (benchmarks/train_step_bench.ts, "sortRows cpu 1000x1024"), not asserted here.

// ---- gather / scatter --------------------------------------------------------------------

Deno.test("cpu: gatherRows and scatterAddRows with repeats", () => {
  const rows = 11, c = 40, n = 25;
  const x = rand(140, rows * c), idx = randInt(141, n, rows);
  idx[3] = idx[4] = idx[5] = 2; // repeats
  const I = be.uploadIndex(idx);
  const g = read(be.gatherRows(be.upload(x), [rows, c], I, n));
  const wantG = new Float32Array(n * c);
  for (let i = 0; i < n; i++) wantG.set(x.subarray(idx[i] * c, idx[i] * c + c), i * c);
  assert.deepEqual(g, wantG);

  const src = rand(142, n * c);
  const s = read(be.scatterAddRows(be.upload(src), [n, c], I, rows));
  const wantS = new Float32Array(rows * c); // float32 sums in increasing i, as documented
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) wantS[idx[i] * c + j] += src[i * c + j];
  sameBits(s, wantS, "scatterAddRows");
  const narrow = read(be.gatherRows(be.upload(x), [rows * 4, c / 4], I, n)); // narrow rows path
  for (let i = 0; i < n; i++) {
    assert.deepEqual(narrow.subarray(i * 10, i * 10 + 10), x.subarray(idx[i] * 10, idx[i] * 10 + 10));
  }
});

Deno.test("cpu: gatherElems and scatterAddElems with repeats", () => {
  const r = 9, c = 13, k = 17;
  const x = rand(150, r * c), idx = randInt(151, r * k, c);
  const I = be.uploadIndex(idx);
  const g = read(be.gatherElems(be.upload(x), [r, c], I, k));
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < k; j++) assert.equal(g[i * k + j], x[i * c + idx[i * k + j]]);
  }
  const src = rand(152, r * k);
  const s = read(be.scatterAddElems(be.upload(src), [r, k], I, c));
  const want = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) want[i * c + idx[i * k + j]] += src[i * k + j];
  sameBits(s, want, "scatterAddElems");
});

// ---- layout ------------------------------------------------------------------------------

Deno.test("cpu: transpose", () => {
  for (const [r, c] of [[1, 9], [9, 1], [37, 70], [64, 64]] as const) {
    const x = rand(160 + r, r * c);
    const t = read(be.transpose(be.upload(x), [r, c]));
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) assert.equal(t[j * r + i], x[i * c + j]);
  }
});

Deno.test("cpu: copyBlock", () => {
  const x = rand(170, 10 * 50);
  for (
    const [rows, cols, sr, sc, dr, dc] of [[3, 40, 2, 5, 1, 3], [4, 7, 6, 43, 0, 0], [10, 50, 0, 0, 0, 0]]
  ) {
    const dst = be.zeros(12 * 60);
    be.copyBlock(be.upload(x), [10, 50], sr, sc, dst, [12, 60], dr, dc, rows, cols);
    const got = read(dst), want = new Float32Array(12 * 60);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        want[(dr + i) * 60 + dc + j] = x[(sr + i) * 50 + sc + j];
      }
    }
    assert.deepEqual(got, want);
  }
  const flat = be.zeros(500); // whole rows: one contiguous copy
  be.copyBlock(be.upload(x), [1, 500], 0, 0, flat, [1, 500], 0, 0, 1, 500);
  assert.deepEqual(read(flat), x);
});

// ---- optimiser ---------------------------------------------------------------------------

Deno.test("cpu: adamw matches the documented update", () => {
  const n = 300;
  const p0 = rand(180, n), g = rand(181, n), m0 = rand(182, n, -0.1, 0.1), v0 = rand(183, n, 0, 0.01);
  const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 7 };
  const P = be.upload(p0), G = be.upload(g), M = be.upload(m0), V = be.upload(v0);
  be.adamw(P, G, M, V, n, h);
  const wp = new Float64Array(n), wm = new Float64Array(n), wv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    wm[i] = h.beta1 * m0[i] + (1 - h.beta1) * g[i];
    wv[i] = h.beta2 * v0[i] + (1 - h.beta2) * g[i] * g[i];
    const mh = wm[i] / (1 - h.beta1 ** h.step), vh = wv[i] / (1 - h.beta2 ** h.step);
    wp[i] = p0[i] - h.lr * h.weightDecay * p0[i] - h.lr * mh / (Math.sqrt(vh) + h.eps);
  }
  close(read(M), wm, 1e-6, 1e-9, "adamw m");
  close(read(V), wv, 1e-6, 1e-12, "adamw v");
  close(read(P), wp, 1e-6, 1e-9, "adamw p");
});

Deno.test("cpu: recycled buffers never leak old values into zero-initialised or partial outputs", () => {
  // Large enough to be pooled: every freed array is handed to the next output of its length.
  const b = new CpuBackend();
  const n = 64, c = 128, len = n * c;
  const junk = () => b.dispose(b.upload(new Float32Array(len).fill(7)));
  junk();
  assert.deepEqual(b.readSync(b.zeros(len)), new Float32Array(len), "zeros");
  const src = rand(11, len), idx = randInt(12, n, n / 2);
  junk();
  const want = new Float32Array(len);
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) want[idx[i] * c + j] += src[i * c + j];
  const s = b.upload(src), ix = b.uploadIndex(idx);
  junk();
  assert.deepEqual(b.readSync(b.scatterAddRows(s, [n, c], ix, n)), want, "scatterAddRows");
  const eIdx = randInt(13, len, c);
  const wantE = new Float32Array(len);
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) wantE[i * c + eIdx[i * c + j]] += src[i * c + j];
  junk();
  const e = b.uploadIndex(eIdx);
  assert.deepEqual(b.readSync(b.scatterAddElems(s, [n, c], e, c)), wantE, "scatterAddElems");
  // A disposed storage is released once: disposing it again must not hand the array out twice.
  const t = b.upload(src);
  b.dispose(t);
  b.dispose(t);
  const u = b.upload(new Float32Array(len).fill(1)), v = b.upload(new Float32Array(len).fill(2));
  assert.notEqual(b.readSync(u)[0], b.readSync(v)[0], "two live outputs share one array");
  assert.ok(b.pool.bytes <= MAX_POOLED_BYTES);
});

Deno.test("cpu buffer pool: a release past the cap drops what an earlier phase left, keeping the new", () => {
  const pool = new CpuBufferPool();
  const per = MAX_POOLED_BYTES / 4; // four arrays fill it
  const old = Array.from({ length: 4 }, () => new Float32Array(per / 4));
  for (const a of old) pool.release(a);
  assert.equal(pool.bytes, MAX_POOLED_BYTES);
  const fresh = new Float32Array(per / 4 + 1024);
  pool.release(fresh);
  assert.equal(pool.bytes, fresh.byteLength, "the earlier phase's arrays are dropped");
  assert.equal(pool.take(fresh.length), fresh, "the new array is handed out again");
  assert.notEqual(pool.take(old[0].length), old[0]);
  const small = new Float32Array(MIN_POOLED - 1);
  pool.release(small);
  assert.notEqual(pool.take(small.length), small, "short arrays are not pooled");
});

Deno.test("cpu: fused biasRelu and reluGrad are bit for bit the add/relu and step/mul they replace", () => {
  const r = 37, c = 70;
  const a = rand(21, r * c, -3, 3), bias = rand(22, c, -1, 1), g = rand(23, r * c, -2, 2);
  // The edge values: ±0, ±Inf, NaN, and sums that land exactly on −0 / +0.
  a.set([0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40, 0.5, -0.5]);
  bias.set([-0, 0, 1, 1, 1, 0, 0, -0.5, 0.5]);
  g.set([-1, -0, Infinity, NaN, -2, 3, -3, Infinity, -Infinity]);
  const bits = (s: Storage) => new Int32Array(be.readSync(s).buffer);
  const A = be.upload(a), B = be.upload(bias), G = be.upload(g);
  const composed = be.unary("relu", be.binary("add", A, [r, c], B, [1, c], [r, c]), r * c);
  const fused = be.biasRelu(A, [r, c], B);
  assert.deepEqual(bits(fused), bits(composed), "biasRelu");
  for (const t of [A, fused]) {
    const want = be.binary("mul", G, [r, c], be.unary("step", t, r * c), [r, c], [r, c]);
    assert.deepEqual(bits(be.reluGrad(G, t, r * c)), bits(want), "reluGrad");
  }
});

Deno.test("cpu: fused logsumexpGrad is bit for bit the sub/exp/mul it replaces", () => {
  const r = 41, c = 300;
  const x = rand(31, r * c, -30, 30), g = rand(32, r, -2, 2);
  // SimCLR's masked diagonal (−1e9), an underflowing exp, ±0 gradients, ±Inf and NaN.
  x.set([-1e9, -200, 0, -0, 88, Infinity, -Infinity, NaN]);
  g.set([0, -0, 1e-30, Infinity]);
  const bits = (s: Storage) => new Int32Array(be.readSync(s).buffer);
  const X = be.upload(x), G = be.upload(g), Y = be.logsumexp(X, [r, c]);
  const composed = be.binary(
    "mul",
    be.unary("exp", be.binary("sub", X, [r, c], Y, [r, 1], [r, c]), r * c),
    [r, c],
    G,
    [r, 1],
    [r, c],
  );
  assert.deepEqual(bits(be.logsumexpGrad(X, [r, c], Y, G)), bits(composed));
});

/**
 * The fused ops of src/tensor/fused_ops.ts against the op chains they stand for, on the CPU
 * backend: the same value bits and the same gradient bits, through reverse mode, on random data
 * with the edge values (zeros, a clamped negative distance, a constant row).
 */
import assert from "node:assert/strict";
import {
  add,
  biasRelu,
  div,
  exp,
  mean,
  mul,
  neg,
  param,
  relu,
  step,
  sub,
  sum,
  tensor,
} from "../src/tensor/ops.ts";
import {
  addDiagonal,
  doubleCenter,
  gaussianOfSqDist,
  reluGradWithColumnSums,
  sqDistFromGram,
  sumOfProducts,
} from "../src/tensor/fused_ops.ts";
import { isSymmetric, rowPeriod } from "../src/tensor/backends/cpu_fused.ts";
import { grad } from "../src/tensor/autograd.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";
import { CounterRng } from "../src/rng/philox.ts";
import type { Tensor } from "../src/tensor/tensor.ts";

const be = new CpuBackend();
const bits = (t: Tensor) => Array.from(new Int32Array(t.toArraySync().buffer));
const values = (label: string, n: number, lo: number, hi: number) =>
  new CounterRng(5, "fused", label).uniforms(n, lo, hi);

/**
 * Value and gradient bits of `op(...inputs)` and `chain(...inputs)` under the loss Σ w∘out (w a
 * fixed random weight, so every element's gradient differs), for every input that takes a grad.
 */
function compare(
  name: string,
  inputs: { data: Float32Array; shape: [number, number]; grad: boolean }[],
  op: (...xs: Tensor[]) => Tensor,
  chain: (...xs: Tensor[]) => Tensor,
) {
  const run = (f: (...xs: Tensor[]) => Tensor) => {
    const xs = inputs.map((
      i,
    ) => (i.grad ? param(i.data, i.shape, be) : tensor(i.data, i.shape, { backend: be })));
    const out = f(...xs);
    const w = tensor(values(`${name} w`, out.size, -2, 2), out.shape, { backend: be });
    const gs = grad(sum(mul(out, w)), xs.filter((x) => x.requiresGrad));
    return { out: bits(out), grads: gs.map(bits) };
  };
  const fused = run(op), plain = run(chain);
  assert.deepEqual(fused.out, plain.out, `${name}: values`);
  fused.grads.forEach((g, i) => assert.deepEqual(g, plain.grads[i], `${name}: gradient ${i}`));
}

Deno.test("fused ops: values and gradients bit for bit those of the chains they replace", () => {
  const n = 67, m = 45;
  const xx = values("xx", n, 0, 4), yy = values("yy", m, 0, 4), gram = values("gram", n * m, -3, 3);
  gram[0] = 100; // a distance that rounds negative and is clamped to 0
  compare(
    "sqDistFromGram",
    [{ data: xx, shape: [n, 1], grad: true }, { data: yy, shape: [1, m], grad: true }, {
      data: gram,
      shape: [n, m],
      grad: true,
    }],
    sqDistFromGram,
    (a, b, g) => relu(add(add(a, b), mul(g, -2))),
  );
  const d2 = values("d2", n * n, 0, 9);
  d2.set([0, -0, 1e-30]);
  compare(
    "gaussianOfSqDist",
    [{ data: d2, shape: [n, n], grad: true }, { data: new Float32Array([1.7]), shape: [1, 1], grad: false }],
    gaussianOfSqDist,
    (d, t) => exp(neg(div(d, t))),
  );
  // A point set's distances to itself are symmetric bit for bit: the upper triangle's exponentials
  // are computed and mirrored (odd n: the middle row pairs with itself; even n too). One element off
  // the symmetry takes the full path.
  for (const side of [n, 64]) {
    const sym = new Float32Array(side * side);
    for (let i = 0; i < side; i++) {
      for (let j = i; j < side; j++) sym[i * side + j] = sym[j * side + i] = d2[(i * n + j) % d2.length];
    }
    assert.ok(isSymmetric(sym, side));
    const almost = sym.slice();
    almost[side * (side - 1) + 3] += 1;
    assert.ok(!isSymmetric(almost, side));
    for (const [what, data] of [["symmetric", sym], ["one element off", almost]] as const) {
      compare(
        `gaussianOfSqDist, ${what}, n = ${side}`,
        [{ data, shape: [side, side], grad: true }, {
          data: new Float32Array([1.3]),
          shape: [1, 1],
          grad: false,
        }],
        gaussianOfSqDist,
        (d, t) => exp(neg(div(d, t))),
      );
    }
  }
  // Rows repeating with period 12 (HSIC's anchors: one clean feature per view): one period is
  // computed and copied, with the same bits.
  const periodic = new Float32Array(48 * n);
  for (let r = 0; r < 48; r++) periodic.set(d2.subarray((r % 12) * n, (r % 12 + 1) * n), r * n);
  compare(
    "gaussianOfSqDist, periodic rows",
    [{ data: periodic, shape: [48, n], grad: true }, {
      data: new Float32Array([0.9]),
      shape: [1, 1],
      grad: false,
    }],
    gaussianOfSqDist,
    (d, t) => exp(neg(div(d, t))),
  );
  const k = values("k", n * n, 0, 1);
  k.fill(0.25, 0, n); // a constant row
  compare(
    "doubleCenter",
    [{ data: k, shape: [n, n], grad: true }],
    doubleCenter,
    (x) => add(sub(sub(x, mean(x, 0)), mean(x, 1)), mean(x)),
  );
  compare(
    "sumOfProducts",
    [{ data: values("a", n * m, -1, 1), shape: [n, m], grad: false }, {
      data: values("b", n * m, -1, 1),
      shape: [n, m],
      grad: true,
    }],
    sumOfProducts,
    (a, b) => sum(mul(a, b)),
  );
  // SimCLR's self mask, with −0 off the diagonal (the chain's add turns it into +0).
  const logits = values("logits", n * n, -2, 2);
  logits.set([-0, 0, -0], 1);
  compare(
    "addDiagonal",
    [{ data: logits, shape: [n, n], grad: true }],
    (x) => addDiagonal(x, -1e9),
    (x) => {
      const mask = new Float32Array(n * n);
      for (let a = 0; a < n; a++) mask[a * n + a] = -1e9;
      return add(x, tensor(mask, [n, n], { backend: be }));
    },
  );
  // A hidden layer: relu(x + bias), whose backward takes relu's gradient and its column sums at once.
  const pre = values("pre", n * m, -1, 1);
  pre.set([0, -0, 1e-40]);
  compare(
    "biasRelu",
    [{ data: pre, shape: [n, m], grad: true }, {
      data: values("bias", m, -0.5, 0.5),
      shape: [1, m],
      grad: true,
    }],
    biasRelu,
    (x, b) => relu(add(x, b)),
  );
});

Deno.test("fused ops: reluGradWithColumnSums is reluGrad and sum over rows", () => {
  const r = 33, c = 20;
  const g = tensor(values("g", r * c, -2, 2), [r, c], { backend: be });
  const tv = values("t", r * c, -1, 1);
  tv.set([0, -0, 1e-40, -1e-40, Infinity, -Infinity]); // step's edges
  const t = tensor(tv, [r, c], { backend: be, allowNonFinite: true });
  const chain = (a: Tensor, b: Tensor) => mul(a, step(b));
  const fused = reluGradWithColumnSums(g, t);
  assert.ok(fused, "the cpu backend takes the fused pass");
  const [gz, sums] = fused;
  assert.deepEqual(bits(gz), bits(chain(g, t)));
  assert.deepEqual(bits(sums), bits(sum(chain(g, t), 0)));
});

Deno.test("fused ops: rowPeriod finds the repeat of HSIC's anchors and nothing in distinct rows", () => {
  const rows = (period: number, count: number, cols: number) => {
    const base = values(`period ${period}`, period * cols, -1, 1), out = new Float32Array(count * cols);
    for (let r = 0; r < count; r++) {
      out.set(base.subarray((r % period) * cols, (r % period + 1) * cols), r * cols);
    }
    return out;
  };
  assert.equal(rowPeriod(rows(256, 1024, 8), 1024, 8), 256);
  assert.equal(rowPeriod(rows(7, 21, 5), 21, 5), 7);
  assert.equal(rowPeriod(values("distinct", 64 * 9, -1, 1), 64, 9), 64);
  // One differing bit in the last row breaks the period.
  const almost = rows(4, 16, 3);
  almost[almost.length - 1] = -almost[almost.length - 1];
  assert.equal(rowPeriod(almost, 16, 3), 16);
});

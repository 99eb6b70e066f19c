/**
 * Bad input throws a TensorError whose message names the op, the shapes involved and what was
 * expected, before any work is launched.
 */
import { grad } from "../src/tensor/autograd.ts";
import {
  add,
  assertFinite,
  concat,
  div,
  expand,
  gatherElems,
  gatherRows,
  indexTensor,
  matmul,
  mul,
  permuteRows,
  scatterAddRows,
  slice,
  softmaxCrossEntropy,
  sub,
  sum,
  tensor,
} from "../src/tensor/ops.ts";
import { selectBackend } from "../src/tensor/select.ts";
import { TensorError, tidy } from "../src/tensor/tensor.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";
import { assertRejectsWith, assertThrowsWith, cpuBackend, webgpuBackend } from "./helpers.ts";

const backend = cpuBackend();

function t(rows: number, cols: number) {
  return tensor(new Float32Array(rows * cols).fill(1), [rows, cols], { backend });
}

/** `fn` throws a TensorError containing every substring; tensors it made are freed. */
function expectError(fn: () => unknown, substrings: readonly string[]): void {
  tidy(() => {
    assertThrowsWith(fn, TensorError, substrings);
    return null;
  });
}

Deno.test("matmul with differing inner dimensions names both shapes and the transposes", () => {
  expectError(() => matmul(t(2, 3), t(4, 5)), [
    "matmul:",
    "a is [2, 3], b is [4, 5]",
    "expected op(a)'s cols (3) to equal op(b)'s rows (4)",
  ]);
  expectError(() => matmul(t(2, 3), t(4, 3), true, true), [
    "a is [2, 3] transposed",
    "b is [4, 3] transposed",
    "cols (2)",
    "rows (3)",
  ]);
});

Deno.test("elementwise ops and expand with shapes that do not broadcast", () => {
  expectError(() => add(t(2, 3), t(3, 2)), [
    "add:",
    "cannot broadcast [2, 3] with [3, 2]",
    "expected equal dims or 1",
  ]);
  expectError(() => mul(t(4, 3), t(2, 3)), ["mul:", "[4, 3] with [2, 3]"]);
  expectError(() => expand(t(2, 3), [2, 4]), ["expand:", "[2, 3]", "[2, 4]"]);
  // expand only grows: a [3, 4] tensor does not fit [1, 4].
  expectError(() => expand(t(3, 4), [1, 4]), ["expand:", "[3, 4]", "[1, 4]", "expected"]);
});

Deno.test("two number operands are rejected, not recursed on", () => {
  expectError(() => add(1, 2), ["add:", "expected at least one tensor operand"]);
  expectError(() => mul(1, 2), ["mul:", "expected at least one tensor operand"]);
  expectError(() => sub(1, 2), ["sub:", "expected at least one tensor operand"]);
  expectError(() => div(1, 2), ["div:", "expected at least one tensor operand"]);
});

Deno.test("concat of tensors that differ on the other axis", () => {
  expectError(() => concat([t(2, 3), t(2, 4)], 0), [
    "concat:",
    "shapes [2, 3], [2, 4] differ on axis 1",
    "expected 3 everywhere",
  ]);
  expectError(() => concat([t(2, 3), t(5, 3), t(1, 3)], 1), [
    "[2, 3], [5, 3], [1, 3] differ on axis 0",
    "expected 2 everywhere",
  ]);
  expectError(() => concat([], 0), ["concat:", "expected at least one tensor"]);
});

Deno.test("slice out of range", () => {
  expectError(() => slice(t(4, 5), 0, 2, 6), [
    "slice:",
    "range [2, 6) on axis 0 of [4, 5]",
    "expected 0 ≤ start ≤ end ≤ 4",
  ]);
  expectError(() => slice(t(4, 5), 1, 3, 2), ["slice:", "[3, 2) on axis 1 of [4, 5]", "≤ 5"]);
  expectError(() => slice(t(4, 5), 1, -1, 2), ["slice:", "[-1, 2)"]);
});

Deno.test("gather and scatter indices out of range", () => {
  expectError(() => gatherRows(t(3, 2), indexTensor([0, 3, 1], undefined, backend)), [
    "gatherRows:",
    "index 3 at position 1 is out of range",
    "expected a row of [3, 2] in [0, 3)",
  ]);
  expectError(() => gatherRows(t(3, 2), indexTensor([-1], undefined, backend)), [
    "gatherRows:",
    "index -1 at position 0",
  ]);
  expectError(() => gatherRows(t(3, 2), indexTensor([0, 1, 2, 0], [2, 2], backend)), [
    "gatherRows:",
    "indices [2, 2] must be a vector",
  ]);
  expectError(() => gatherElems(t(2, 3), indexTensor([0, 1, 2, 5], [2, 2], backend)), [
    "gatherElems:",
    "index 5 at position 3",
    "expected a column of [2, 3] in [0, 3)",
  ]);
  expectError(() => scatterAddRows(t(2, 3), indexTensor([0, 4], undefined, backend), 4), [
    "scatterAddRows:",
    "index 4 at position 1",
    "[2, 3]",
    "in [0, 4)",
  ]);
});

Deno.test("permuteRows with a non-permutation", () => {
  expectError(() => permuteRows(t(3, 2), indexTensor([0, 1, 1], undefined, backend)), [
    "permuteRows:",
    "index 1 repeats",
    "[3, 2]",
    "expected a permutation",
  ]);
  expectError(() => permuteRows(t(3, 2), indexTensor([0, 3, 1], undefined, backend)), [
    "permuteRows:",
    "index 3",
    "out of range",
    "[3, 2]",
  ]);
  expectError(() => permuteRows(t(3, 2), indexTensor([0, 1], undefined, backend)), [
    "permuteRows:",
    "permutation of 2 for [3, 2]; expected 3",
  ]);
});

Deno.test("softmaxCrossEntropy with a label ≥ k or the wrong number of labels", () => {
  expectError(() => softmaxCrossEntropy(t(3, 4), indexTensor([0, 4, 1], undefined, backend)), [
    "softmaxCrossEntropy:",
    "index 4 at position 1 is out of range",
    "expected a class label",
    "[3, 4]",
    "in [0, 4)",
  ]);
  expectError(() => softmaxCrossEntropy(t(3, 4), indexTensor([0, 1], undefined, backend)), [
    "softmaxCrossEntropy:",
    "labels [2, 1] do not match logits [3, 4]",
    "expected one label per row",
  ]);
});

Deno.test("tensor() with NaN or Infinity names the row and column", () => {
  expectError(() => tensor([[1, 2, 3], [4, NaN, 6]], undefined, { backend }), [
    "tensor:",
    "value NaN at row 1, col 1 of [2, 3] is not finite",
    "expected finite values",
  ]);
  expectError(() => tensor(new Float32Array([0, 0, 0, 0, 0, -Infinity]), [3, 2], { backend }), [
    "tensor:",
    "value -Infinity at row 2, col 1 of [3, 2]",
  ]);
  // Finite in float64 but not in float32.
  expectError(() => tensor([1e39], [1, 1], { backend }), [
    "tensor:",
    "value Infinity at row 0, col 0 of [1, 1]",
  ]);
  // allowNonFinite lets them through.
  tensor([NaN, Infinity], [1, 2], { backend, allowNonFinite: true }).dispose();
});

Deno.test("assertFinite names what it checked and where the bad value is", async () => {
  const x = tensor([1, 2, 3, NaN, 5, 6], [2, 3], { backend, allowNonFinite: true });
  try {
    await assertRejectsWith(() => assertFinite(x, "backbone features"), TensorError, [
      "assertFinite:",
      "backbone features: value NaN at row 1, col 0 of [2, 3]",
      "expected finite values",
    ]);
  } finally {
    x.dispose();
  }
  const ok = tensor([1, 2], [1, 2], { backend });
  await assertFinite(ok, "finite");
  ok.dispose();
});

Deno.test("tensor() and indexTensor() with the wrong amount of data", () => {
  expectError(() => tensor([1, 2, 3, 4, 5], [2, 3], { backend }), [
    "tensor:",
    "shape [2, 3] needs 6 values, got 5",
  ]);
  expectError(() => tensor([[1, 2], [3]], undefined, { backend }), [
    "tensor:",
    "row 1 has 1 values; expected 2",
  ]);
  expectError(() => tensor([1, 2], [-1, -2], { backend }), ["tensor:", "invalid shape [-1, -2]"]);
  expectError(() => indexTensor([1, 2, 3], [2, 2], backend), [
    "indexTensor:",
    "shape [2, 2] needs 4 values, got 3",
  ]);
  expectError(() => indexTensor([1, 2.5], undefined, backend), [
    "indexTensor:",
    "value 2.5 at 1 is not an integer",
  ]);
});

Deno.test({
  name: "selectBackend with an unknown backend",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await assertRejectsWith(() => selectBackend("tpu"), TensorError, [
      "selectBackend:",
      'unknown backend "tpu"',
      "expected one of auto, cpu, webgpu",
    ]);
  },
});

Deno.test("use of a disposed tensor", () => {
  const a = t(2, 2), b = t(2, 2);
  a.dispose();
  expectError(() => add(a, b), ["add:", "input [2, 2] was disposed"]);
  expectError(() => matmul(b, a), ["matmul:", "[2, 2] was disposed"]);
  expectError(() => a.toArray(), ["toArray:", "tensor [2, 2] was disposed"]);
  const idx = indexTensor([0, 1], undefined, backend);
  idx.dispose();
  expectError(() => gatherRows(b, idx), ["gatherRows:", "input [2, 1] was disposed"]);
  b.dispose();
  b.dispose(); // disposing twice is harmless
});

Deno.test({
  name: "mixing tensors from two backends",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Prefer the real second backend; without an adapter a second CpuBackend is another backend too.
    const other = (await webgpuBackend()) ?? new CpuBackend();
    const a = t(2, 2), b = tensor(new Float32Array(4), [2, 2], { backend: other });
    try {
      expectError(() => add(a, b), ["add:", `inputs live on different backends (cpu and ${other.name})`]);
      expectError(() => matmul(b, a), ["matmul:", `different backends (${other.name} and cpu)`]);
      expectError(() => concat([a, b], 0), ["concat:", "different backends"]);
    } finally {
      a.dispose();
      b.dispose();
    }
  },
});

Deno.test("grad of a non-scalar loss", () => {
  expectError(() => {
    const x = tensor(new Float32Array(6), [2, 3], { backend, requiresGrad: true });
    return grad(mul(x, 2), [x]);
  }, ["grad:", "loss must be a [1, 1] tensor, got [2, 3]"]);
  // A [1, 1] loss works, and a tensor it does not depend on gets zeros.
  const [gx, gy] = tidy(() => {
    const x = tensor([1, 2, 3], [1, 3], { backend, requiresGrad: true });
    const y = tensor([1, 2], [1, 2], { backend, requiresGrad: true });
    return grad(sum(mul(x, x)), [x, y]);
  });
  const [vx, vy] = [gx.toArraySync(), gy.toArraySync()];
  gx.dispose();
  gy.dispose();
  if (vx.join() !== "2,4,6" || vy.join() !== "0,0") throw new Error(`grad: got ${vx} and ${vy}`);
});

/** Accuracy from logits, and the mean and spread of augmented accuracy over K draws. */
import assert from "node:assert/strict";
import { accuracy, accuracyFromPredictions, argmaxRows, augmentedAccuracy } from "../src/metrics/accuracy.ts";

Deno.test("accuracy: argmax per row, first maximum on ties, NaN never wins", () => {
  const logits = new Float32Array([
    0.1,
    0.7,
    0.2, // 1
    5,
    5,
    1, // tie → 0
    -3,
    -2,
    -1, // 2
    NaN,
    1,
    0, // 1
    NaN,
    NaN,
    NaN, // 0
  ]);
  assert.deepEqual([...argmaxRows(logits, 3)], [1, 0, 2, 1, 0]);
  assert.equal(accuracy(logits, new Int32Array([1, 0, 0, 1, 2]), 3), 3 / 5);
});

Deno.test("accuracy: from predictions, with shape errors", () => {
  assert.equal(accuracyFromPredictions(new Int32Array([1, 2, 3, 4]), new Int32Array([1, 2, 0, 0])), 0.5);
  assert.throws(
    () => accuracyFromPredictions(new Int32Array(2), new Int32Array(3)),
    /2 predictions for 3 labels/,
  );
  assert.throws(() => accuracyFromPredictions(new Int32Array(0), new Int32Array(0)), /no samples/);
  assert.throws(() => argmaxRows(new Float32Array(5), 2), /multiple of 2 classes/);
});

Deno.test("accuracy: augmented accuracy is the mean and sample sd over draws", () => {
  // Draws 0.90, 0.92, 0.94: mean 0.92, sd = sqrt((0.02² + 0 + 0.02²) / 2) = 0.02.
  const r = augmentedAccuracy([0.9, 0.92, 0.94]);
  assert.ok(Math.abs(r.mean - 0.92) < 1e-15);
  assert.ok(Math.abs(r.sd - 0.02) < 1e-15);
  assert.deepEqual(r.draws, [0.9, 0.92, 0.94]);
  assert.deepEqual(augmentedAccuracy([0.5]), { mean: 0.5, sd: 0, draws: [0.5] });
  assert.throws(() => augmentedAccuracy([]), /no draws/);
  assert.throws(() => augmentedAccuracy([0.5, 91]), /fraction in \[0, 1\]/);
});

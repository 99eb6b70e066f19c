/**
 * Summary statistics over seeds: Student's t quantiles against published values and closed
 * forms, mean / sd / 95 % CI, and the summary rows of a result table.
 */
import assert from "node:assert/strict";
import { studentTCdf, studentTQuantile, summarize } from "../src/results/stats.ts";
import { summarizeRows } from "../src/results/table.ts";
import { row } from "./fixtures/harness.ts";

function close(got: number, want: number, tol: number, what = ""): void {
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want} (±${tol})`);
}

Deno.test("stats: studentTQuantile matches published two-sided 95 % and 99 % values", () => {
  // t_{0.975}(df) and t_{0.995}(df) (R: qt(0.975, df), qt(0.995, df)).
  const table: [number, number, number][] = [
    [1, 12.706204736174698, 63.65674116287399],
    [2, 4.302652729749464, 9.924843200918284],
    [5, 2.570581835636314, 4.032142983557536],
    [30, 2.042272456301238, 2.749995653567322],
  ];
  for (const [df, q975, q995] of table) {
    close(studentTQuantile(0.975, df), q975, 1e-9, `t_0.975(${df})`);
    close(studentTQuantile(0.995, df), q995, 1e-8, `t_0.995(${df})`);
    close(studentTQuantile(0.025, df), -q975, 1e-9, `t_0.025(${df})`);
    close(studentTQuantile(0.5, df), 0, 1e-12, `t_0.5(${df})`);
    close(studentTCdf(q975, df), 0.975, 1e-12, `F(t_0.975(${df}))`);
  }
});

Deno.test("stats: studentTQuantile agrees with the closed forms for df 1 and 2, in the far tails too", () => {
  for (const q of [0.6, 0.9, 0.975, 0.999, 0.9999, 0.99999, 1e-5, 0.3]) {
    // df = 1 is Cauchy: tan(π (q − ½)); df = 2: (2q − 1) / √(2q(1 − q)).
    const cauchy = Math.tan(Math.PI * (q - 0.5));
    close(studentTQuantile(q, 1), cauchy, 1e-9 * Math.max(1, Math.abs(cauchy)), `t_${q}(1)`);
    const two = (2 * q - 1) / Math.sqrt(2 * q * (1 - q));
    close(studentTQuantile(q, 2), two, 1e-9 * Math.max(1, Math.abs(two)), `t_${q}(2)`);
  }
  // Large df approaches the normal quantile.
  close(studentTQuantile(0.975, 1e6), 1.959963984540054, 1e-5, "t_0.975(1e6)");
  close(studentTCdf(0, 3), 0.5, 1e-15, "F(0)");
  close(studentTCdf(1, 1), 0.75, 1e-12, "Cauchy F(1)");
});

Deno.test("stats: studentTQuantile refuses quantiles outside (0, 1) and non-positive df", () => {
  for (const q of [0, 1, -0.1, 1.5, NaN]) assert.throws(() => studentTQuantile(q, 3), RangeError);
  for (const df of [0, -1, NaN]) assert.throws(() => studentTQuantile(0.975, df), /degrees of freedom/);
});

Deno.test("stats: summarize gives mean, sample sd and the t-based 95 % CI", () => {
  const s = summarize([1, 2, 3, 4, 5]);
  assert.equal(s.n, 5);
  assert.equal(s.mean, 3);
  close(s.sd, Math.sqrt(2.5), 1e-15, "sd");
  const half = 2.7764451051977987 * Math.sqrt(2.5) / Math.sqrt(5);
  close(s.ci95[0], 3 - half, 1e-9, "ci lo");
  close(s.ci95[1], 3 + half, 1e-9, "ci hi");

  // Two seeds: df 1, the CI is ±12.706 × sd / √2.
  const two = summarize([0.9, 0.92]);
  close(two.mean, 0.91, 1e-15);
  close(two.sd, Math.SQRT2 * 0.01, 1e-15);
  close(two.ci95[1] - two.mean, 12.706204736174698 * two.sd / Math.SQRT2, 1e-9, "half width, n = 2");

  // One value: no spread is known; constant values: a zero-width interval.
  assert.deepEqual(summarize([0.7]), { n: 1, mean: 0.7, sd: 0, ci95: [0.7, 0.7] });
  assert.deepEqual(summarize([2, 2, 2]), { n: 3, mean: 2, sd: 0, ci95: [2, 2] });

  assert.throws(() => summarize([]), /no values/);
  assert.throws(() => summarize([1, NaN]), /non-finite/);
  assert.throws(() => summarize([1, Infinity]), /non-finite/);
});

Deno.test("stats: summary rows group by everything but the seed and count failed cells", () => {
  const rows = [
    row({ method: "ec", seed: 0 }),
    row({ method: "ec", seed: 2 }),
    row({ method: "ec", seed: 1 }),
    row({ method: "mawa", seed: 0 }),
    row({ method: "mawa", seed: 1, status: "diverged", metrics: { acc_clean: null } }),
    row({ method: "mawa", seed: 2, metrics: { r2: null } }),
  ];
  const summary = summarizeRows(rows);
  assert.equal(summary.length, 2);
  const [ec, mawa] = summary;
  assert.deepEqual([ec.method, ec.seeds, ec.failed], ["ec", [0, 1, 2], 0]);
  assert.deepEqual(ec.metrics.acc_clean.n, 3);
  close(ec.metrics.acc_clean.mean, 0.91, 1e-12);
  close(ec.metrics.acc_clean.sd, 0.01, 1e-12);
  close(ec.metrics.acc_clean.ci95[1] - 0.91, 4.302652729749464 * 0.01 / Math.sqrt(3), 1e-9);
  // Timings are summarised like any metric (they are only ignored when comparing).
  assert.equal(ec.metrics.train_seconds.n, 3);

  // The diverged row is counted and left out; a metric missing from an ok row is not summarised.
  assert.deepEqual([mawa.seeds, mawa.failed], [[0, 1, 2], 1]);
  assert.equal(mawa.metrics.acc_clean.n, 2);
  close(mawa.metrics.acc_clean.mean, (0.9 + 0.92) / 2, 1e-12);
  assert.equal(mawa.metrics.r2, undefined);
});

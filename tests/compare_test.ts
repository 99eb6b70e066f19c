/**
 * Cell-by-cell comparison of result documents: exact agreement, differences beyond tolerance,
 * timings ignored, missing cells, status changes, and the seed-sd widening of the tolerance.
 */
import assert from "node:assert/strict";
import { compareResults, DEFAULT_TOLERANCE, formatComparison } from "../src/results/compare.ts";
import { isTimingMetric, readResult, type ResultDocument } from "../src/results/schema.ts";
import { clone, resultDoc, row, standardDoc } from "./fixtures/harness.ts";

const exact = { absolute: 0, seedSd: 0 };

/** A copy of `doc` with row `i`'s metric set to `value` (summary left as it was). */
function withMetric(doc: ResultDocument, i: number, metric: string, value: number | null): ResultDocument {
  const d = clone(doc);
  d.rows[i].metrics[metric] = value;
  return d;
}

Deno.test("compare: a document agrees with itself and with a copy, exactly", () => {
  const a = standardDoc();
  for (const tol of [exact, DEFAULT_TOLERANCE]) {
    const c = compareResults(a, clone(a), tol);
    assert.equal(c.agree, true);
    assert.equal(c.compared, a.rows.length);
    assert.deepEqual([c.onlyInA, c.onlyInB, c.statusDiffers, c.differences], [[], [], [], []]);
    assert.match(formatComparison(c), /compared 6 shared cells\nresult: agree$/);
  }
  // The synthetic document is a valid result document.
  assert.deepEqual(readResult(clone(a)), a);
});

Deno.test("compare: a metric changed beyond the tolerance is listed with both values", () => {
  const a = standardDoc();
  const b = withMetric(a, 4, "acc_aug", a.rows[4].metrics.acc_aug! + 0.01);
  const c = compareResults(a, b, { absolute: 1e-3, seedSd: 0 });
  assert.equal(c.agree, false);
  assert.equal(c.compared, 6);
  assert.deepEqual(c.differences, [{
    cell: a.rows[4].cell,
    label: "mnist/fixture/rot/mawa/linear/seed 1",
    metric: "acc_aug",
    a: a.rows[4].metrics.acc_aug,
    b: a.rows[4].metrics.acc_aug! + 0.01,
    tolerance: 1e-3,
  }]);
  const text = formatComparison(c);
  assert.match(text, /differences \(\|a − b\| > tolerance\):/);
  assert.ok(text.includes(a.rows[4].cell) && text.includes("acc_aug"), text);
  assert.match(text, /result: MISMATCH$/);

  // Within the absolute tolerance it agrees; at exactly the tolerance too (≤).
  assert.equal(compareResults(a, b, { absolute: 0.02, seedSd: 0 }).agree, true);
  const half = withMetric(a, 0, "r2", 0.5);
  assert.equal(compareResults(a, withMetric(half, 0, "r2", 0.75), { absolute: 0.25, seedSd: 0 }).agree, true);
  // The smallest change is seen with a zero tolerance, in either direction.
  const tiny = withMetric(a, 0, "l1", a.rows[0].metrics.l1! * (1 + Number.EPSILON));
  assert.equal(compareResults(a, tiny, exact).differences.length, 1);
  assert.equal(compareResults(tiny, a, exact).differences.length, 1);
  // Every changed metric of every changed cell is listed, sorted by metric name.
  const many = withMetric(withMetric(withMetric(a, 1, "r2", 0), 1, "acc_clean", 0), 3, "slope", 9);
  assert.deepEqual(
    compareResults(a, many, exact).differences.map((d) => `${d.cell}:${d.metric}`),
    [`${a.rows[1].cell}:acc_clean`, `${a.rows[1].cell}:r2`, `${a.rows[3].cell}:slope`],
  );
});

Deno.test("compare: null and missing metrics are differences, null meets null, B's extra metrics are not compared", () => {
  const a = standardDoc();
  assert.equal(compareResults(a, withMetric(a, 0, "r2", null), DEFAULT_TOLERANCE).agree, false);
  const both = withMetric(a, 0, "r2", null);
  assert.equal(compareResults(both, clone(both), exact).agree, true);
  // A result re-run by a newer harness that measures more (e.g. e_collision_raw) still agrees...
  const extra = withMetric(a, 2, "e_collision_raw", 0.5);
  assert.deepEqual(compareResults(a, extra, exact).differences, []);
  assert.equal(compareResults(a, extra, exact).agree, true);
  // ...but a metric of A that B lacks is a difference.
  const c = compareResults(extra, a, DEFAULT_TOLERANCE);
  assert.deepEqual(c.differences.map((d) => [d.metric, d.a, d.b]), [["e_collision_raw", 0.5, null]]);
  assert.equal(c.agree, false);
});

Deno.test("compare: timings are never compared", () => {
  const a = standardDoc();
  let b = clone(a);
  for (const r of b.rows) {
    r.metrics.train_seconds = 1e6;
    r.metrics.test_seconds = null;
    r.metrics.extract_seconds = 42;
  }
  b = resultDoc(b.rows);
  assert.ok(isTimingMetric("train_seconds") && isTimingMetric("extract_seconds"));
  assert.ok(!isTimingMetric("acc_clean") && !isTimingMetric("seconds_per_epoch"));
  const c = compareResults(a, b, exact);
  assert.equal(c.agree, true, formatComparison(c));
  assert.equal(c.differences.length, 0);
});

Deno.test("compare: cells missing on either side are a mismatch", () => {
  const a = standardDoc();
  const fewer = resultDoc(a.rows.slice(1));
  const ab = compareResults(a, fewer, DEFAULT_TOLERANCE);
  assert.equal(ab.agree, false);
  assert.deepEqual(ab.onlyInA, [a.rows[0].cell]);
  assert.deepEqual(ab.onlyInB, []);
  assert.equal(ab.compared, 5);
  assert.match(formatComparison(ab), new RegExp(`missing in B: cell ${a.rows[0].cell}`));

  const ba = compareResults(fewer, a, DEFAULT_TOLERANCE);
  assert.equal(ba.agree, false);
  assert.deepEqual(ba.onlyInB, [a.rows[0].cell]);
  assert.match(formatComparison(ba), new RegExp(`missing in A: cell ${a.rows[0].cell}`));

  // Disjoint documents share nothing and agree on nothing.
  const other = resultDoc([row({ method: "waco", seed: 0 })]);
  const none = compareResults(a, other, DEFAULT_TOLERANCE);
  assert.equal(none.compared, 0);
  assert.equal(none.agree, false);
  // An empty comparison restricted to chosen cells (reproduce) looks at those cells only.
  const chosen = new Set([a.rows[1].cell, a.rows[2].cell]);
  assert.equal(compareResults(a, fewer, DEFAULT_TOLERANCE, chosen).agree, true);
  assert.equal(compareResults(a, fewer, DEFAULT_TOLERANCE, new Set([a.rows[0].cell])).agree, false);
});

Deno.test("compare: a cell whose status differs is a mismatch", () => {
  const a = standardDoc();
  const b = clone(a);
  b.rows[3].status = "diverged";
  b.rows[3].reason = "loss became NaN";
  const c = compareResults(a, resultDoc(b.rows), DEFAULT_TOLERANCE);
  assert.equal(c.agree, false);
  assert.deepEqual(c.statusDiffers, [{
    cell: a.rows[3].cell,
    label: "mnist/fixture/rot/mawa/linear/seed 0",
    a: "ok",
    b: "diverged",
  }]);
  assert.match(
    formatComparison(c),
    /status differs: mnist\/fixture\/rot\/mawa\/linear\/seed 0 .*: ok vs diverged/,
  );
});

Deno.test("compare: the seed-sd term widens the tolerance by k × the larger sd over seeds", () => {
  // acc_clean over seeds 0, 1, 2 of a group: 0.90, 0.91, 0.92 → sd 0.01.
  const a = standardDoc();
  const sd = a.summary.find((s) => s.method === "mawa")!.metrics.acc_clean.sd;
  assert.ok(Math.abs(sd - 0.01) < 1e-12, `sd ${sd}`);

  const shifted = (delta: number) => withMetric(a, 3, "acc_clean", a.rows[3].metrics.acc_clean! + delta);
  const tol = { absolute: 1e-6, seedSd: 2 };
  // |Δ| = 0.015 ≤ 1e-6 + 2 × 0.01: agrees; 0.025 > 0.020001: listed with that tolerance.
  assert.equal(compareResults(a, shifted(0.015), tol).agree, true);
  const c = compareResults(a, shifted(0.025), tol);
  assert.equal(c.differences.length, 1);
  assert.ok(Math.abs(c.differences[0].tolerance - (1e-6 + 2 * sd)) < 1e-15);
  // With seedSd 0 the same 0.015 is a difference; with k = 3 the 0.025 is not.
  assert.equal(compareResults(a, shifted(0.015), { absolute: 1e-6, seedSd: 0 }).agree, false);
  assert.equal(compareResults(a, shifted(0.025), { absolute: 1e-6, seedSd: 3 }).agree, true);

  // The sd is the group's own: the ec group (same spread) widens ec cells, a group without
  // spread (acc_aug_sd is 0.01 in every row → sd 0) does not widen at all.
  const flat = withMetric(a, 0, "acc_aug_sd", 0.0100001);
  assert.equal(compareResults(a, flat, tol).agree, true, "1e-7 ≤ 1e-6");
  assert.equal(compareResults(a, withMetric(a, 0, "acc_aug_sd", 0.011), tol).agree, false);

  // The larger of the two documents' sds is used: B's wider spread widens the tolerance.
  const wide = clone(a);
  wide.rows.filter((r) => r.method === "ec").forEach((r, i) => r.metrics.l2 = 0.2 + 0.05 * (i - 1));
  const wideDoc = resultDoc(wide.rows);
  const wideSd = wideDoc.summary.find((s) => s.method === "ec")!.metrics.l2.sd;
  assert.ok(Math.abs(wideSd - 0.05) < 1e-12);
  // ec seed 0 (row 0): 0.2 in A, 0.15 in B; 0.05 ≤ 2 × 0.05: agrees in both directions.
  for (const [x, y] of [[a, wideDoc], [wideDoc, a]]) {
    const cmp = compareResults(x, y, tol);
    assert.equal(cmp.agree, true, formatComparison(cmp));
  }
  assert.equal(compareResults(a, wideDoc, { absolute: 1e-6, seedSd: 0 }).agree, false);
});

/**
 * Every metric a row can carry: the named ones of the published result schema, those the shipped
 * reference results' rows hold (the structure metrics add `pairs` and `zeroDistancePairs`), the
 * extras a method adds (canon's bin accuracies) and a metric no version knows yet. Each, changed in
 * one row past the tolerance, is reported as exactly that one difference; timings never are.
 */
const schema = JSON.parse(
  await Deno.readTextFile(new URL("../schemas/result.v1.schema.json", import.meta.url)),
);
const shipped: string[] = [];
for await (const m of Deno.readDir(new URL("../results", import.meta.url))) {
  if (!m.isDirectory) continue;
  for await (const v of Deno.readDir(new URL(`../results/${m.name}`, import.meta.url))) {
    const doc = JSON.parse(
      await Deno.readTextFile(new URL(`../results/${m.name}/${v.name}/result.json`, import.meta.url)),
    );
    for (const r of doc.rows) shipped.push(...Object.keys(r.metrics));
  }
}
const NAMED_METRICS = [
  ...new Set([...Object.keys(schema.properties.rows.items.properties.metrics.properties), ...shipped]),
];
const EXTRA_METRICS = ["canon_bin_acc", "canon_bin_acc_clean", "some_future_metric"];

Deno.test("compare: each metric a row can carry, changed in one row, is exactly the difference reported", () => {
  for (const m of ["acc_aug", "collision_raw", "collision_aligned", "pairs", "zeroDistancePairs"]) {
    assert.ok(NAMED_METRICS.includes(m), `${m} not among ${NAMED_METRICS.join()}`);
  }
  // Values for the metrics the synthetic rows lack.
  const lacking = [...NAMED_METRICS, ...EXTRA_METRICS].filter((k) => !(k in standardDoc().rows[0].metrics));
  const extras = Object.fromEntries(lacking.map((k, i) => [k, 0.6 + 0.1 * i]));
  const a = resultDoc(standardDoc().rows.map((r) => ({ ...r, metrics: { ...r.metrics, ...extras } })));
  assert.equal(compareResults(a, clone(a), exact).agree, true);
  [...NAMED_METRICS, ...EXTRA_METRICS].forEach((metric, n) => {
    const i = n % a.rows.length, before = a.rows[i].metrics[metric];
    assert.equal(typeof before, "number", `${metric} is set in the synthetic rows`);
    for (const tol of [exact, DEFAULT_TOLERANCE]) {
      const c = compareResults(a, withMetric(a, i, metric, before! + 0.5), tol);
      if (isTimingMetric(metric)) {
        assert.equal(c.agree, true, `${metric} is a timing and never compared`);
        continue;
      }
      assert.deepEqual(
        c.differences.map((d) => [d.cell, d.metric, d.a, d.b]),
        [[a.rows[i].cell, metric, before, before! + 0.5]],
        `${metric} with ${JSON.stringify(tol)}`,
      );
      assert.equal(c.agree, false, metric);
    }
  });
});

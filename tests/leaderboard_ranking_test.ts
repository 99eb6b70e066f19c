import assert from "node:assert/strict";
import { checkSubmissionFile, contentHash } from "../src/leaderboard/check.ts";
import { baselineMethods, type RankedSource, rankTrack } from "../src/leaderboard/ranking.ts";
import { loadTracks } from "../src/leaderboard/tracks.ts";
import { readJwks } from "../src/results/signing.ts";
import { studentTQuantile, summarize } from "../src/results/stats.ts";
import type { ResultDocument } from "../src/results/schema.ts";
import {
  fixture,
  readFixture,
  syntheticDocument,
  syntheticTrack,
  TRACKS,
  TRUSTED_KEYS,
} from "./fixtures/leaderboard/helpers.ts";
import { XSS_METHOD } from "./fixtures/leaderboard/make_fixtures.ts";

const source = (doc: ResultDocument, hash = "h".repeat(64)): RankedSource => ({ hash, kid: "kid", doc });

async function fixtureTable() {
  const trusted = await readJwks(TRUSTED_KEYS);
  const { tracks } = await loadTracks(TRACKS);
  const subs = await Promise.all(
    ["good.json", "worse.json", "xss.json"].map((f) => checkSubmissionFile(fixture(f), trusted, tracks)),
  );
  const track = tracks.find((t) => t.id === "fixture-rotation")!;
  return { table: rankTrack(track, subs), subs, track };
}

Deno.test("ranking: the fixtures rank by augmented accuracy across submissions", async () => {
  const { table } = await fixtureTable();
  const hash = async (f: string) => contentHash(await readFixture(f));
  const [good, worse, xss] = [await hash("good.json"), await hash("worse.json"), await hash("xss.json")];
  const name = (h: string) => (h === good ? "good" : h === worse ? "worse" : h === xss ? "xss" : "?");
  assert.deepEqual(
    table.entries.map((e) => [e.rank, e.method, name(e.submission.hash)]),
    [
      [1, "mawa", "good"],
      [2, "waco", "good"],
      [3, "mawa", "xss"],
      [4, "simclr", "good"],
      [5, "waco", "xss"],
      [6, "mawa", "worse"],
      [7, "simclr", "xss"],
      [8, "waco", "worse"],
      [9, "hsic", "good"],
      [10, "simclr", "worse"],
      [11, "hsic", "xss"],
      [12, XSS_METHOD, "xss"],
      [13, "hsic", "worse"],
      [14, "none", "good"],
      [15, "none", "xss"],
      [16, "none", "worse"],
    ],
  );
  assert.equal(table.submissions, 3);
  const means = table.entries.map((e) => e.accAug!.mean);
  assert.deepEqual(means, [...means].sort((a, b) => b - a));
});

Deno.test("ranking: mean and 95 % CI over seeds are Student-t intervals of the rows", async () => {
  const { table, subs } = await fixtureTable();
  for (const e of table.entries) {
    const doc = subs.find((s) => s.hash === e.submission.hash)!.doc;
    const values = doc.rows.filter((r) => r.method === e.method && r.augmentation === "rotation")
      .map((r) => r.metrics.acc_aug!);
    assert.equal(values.length, 3);
    const mean = values.reduce((a, b) => a + b, 0) / 3;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
    const half = studentTQuantile(0.975, 2) * sd / Math.sqrt(3);
    assert.ok(Math.abs(e.accAug!.mean - mean) < 1e-12);
    assert.ok(Math.abs(e.accAug!.ci95[0] - (mean - half)) < 1e-9, `${e.method} CI low`);
    assert.ok(Math.abs(e.accAug!.ci95[1] - (mean + half)) < 1e-9, `${e.method} CI high`);
    assert.ok(Math.abs(studentTQuantile(0.975, 2) - 4.302652729911275) < 1e-9);
  }
});

Deno.test("ranking: equal augmented accuracy shares a rank (1, 1, 3), broken for display by clean accuracy", () => {
  const doc = syntheticDocument([
    { id: "none", clean: [0.99, 0.99], aug: [0.4, 0.4] },
    { id: "a", clean: [0.95, 0.95], aug: [0.8, 0.8] },
    { id: "b", clean: [0.97, 0.97], aug: [0.8, 0.8] },
    { id: "c", clean: [0.98, 0.98], aug: [0.7, 0.7] },
  ]);
  const t = rankTrack(syntheticTrack({ clean_tolerance: 10 }), [source(doc)]);
  assert.deepEqual(t.entries.map((e) => [e.rank, e.method]), [[1, "b"], [1, "a"], [3, "c"], [4, "none"]]);
});

Deno.test("ranking: the clean-tolerance mark compares with the same submission's EC, strictly beyond the tolerance", () => {
  const doc = syntheticDocument([
    { id: "none", clean: [0.98, 0.98, 0.98], aug: [0.4, 0.4, 0.4] },
    { id: "at", clean: [0.96, 0.96, 0.96], aug: [0.7, 0.7, 0.7] }, // exactly 2.00 points below: not marked
    { id: "beyond", clean: [0.9599, 0.9599, 0.9599], aug: [0.7, 0.7, 0.7] }, // 2.01 points below
    { id: "above", clean: [0.99, 0.99, 0.99], aug: [0.6, 0.6, 0.6] },
  ]);
  // A better EC in another submission must not change this submission's marks.
  const other = syntheticDocument([{ id: "none", clean: [1, 1, 1], aug: [0.3, 0.3, 0.3] }]);
  const t = rankTrack(syntheticTrack({ clean_tolerance: 2 }), [
    source(doc, "1".repeat(64)),
    source(other, "2".repeat(64)),
  ]);
  const by = (m: string) => t.entries.find((e) => e.method === m && e.submission.hash === "1".repeat(64))!;
  assert.equal(by("at").cleanDropPoints, 2);
  assert.equal(by("at").altersF, false);
  assert.equal(by("beyond").cleanDropPoints, 2.01);
  assert.equal(by("beyond").altersF, true);
  assert.equal(by("above").cleanDropPoints, -1);
  assert.equal(by("above").altersF, false);
  assert.equal(by("none").altersF, false);
  assert.equal(by("none").cleanDropPoints, undefined);
  assert.equal(by("none").baseline, true);
});

Deno.test("ranking: the fixtures' marks (tolerance 2 points)", async () => {
  const { table } = await fixtureTable();
  const marked = table.entries.filter((e) => e.altersF).map((e) => `${e.rank}:${e.method}`);
  assert.deepEqual(marked, [
    "4:simclr",
    "6:mawa",
    "7:simclr",
    "8:waco",
    "9:hsic",
    "10:simclr",
    "11:hsic",
    "13:hsic",
  ]);
});

Deno.test("ranking: EC is the matrix's kind-none method, preferring the same classifier", () => {
  const doc = syntheticDocument(
    [
      { id: "ec", clean: [0.9, 0.9], aug: [0.5, 0.5], classifier: "linear" },
      { id: "ec", clean: [0.99, 0.99], aug: [0.5, 0.5], classifier: "mlp" },
      { id: "m", clean: [0.95, 0.95], aug: [0.7, 0.7], classifier: "linear" },
      { id: "m", clean: [0.95, 0.95], aug: [0.7, 0.7], classifier: "mlp" },
      { id: "n", clean: [0.95, 0.95], aug: [0.7, 0.7], classifier: "nc" },
    ],
    { specMethods: [{ id: "ec", kind: "none" }, { id: "m", kind: "adapter" }, { id: "n", kind: "adapter" }] },
  );
  assert.deepEqual([...baselineMethods(doc)], ["ec"]);
  const t = rankTrack(syntheticTrack({ clean_tolerance: 1 }), [source(doc)]);
  const get = (m: string, c: string) => t.entries.find((e) => e.method === m && e.classifier === c)!;
  assert.equal(get("m", "linear").cleanDropPoints, -5);
  assert.equal(get("m", "mlp").cleanDropPoints, 4);
  assert.equal(get("m", "mlp").altersF, true);
  // No EC with classifier "nc": the submission's best EC on the track.
  assert.equal(get("n", "nc").baselineClean, 0.99);
  // Without kinds in the spec, "none" and "ec" are the baselines.
  assert.deepEqual([...baselineMethods({ ...doc, matrix: { ...doc.matrix, spec: {} } })].sort(), [
    "ec",
    "none",
  ]);
});

Deno.test("ranking: failed seeds are counted; a method with no finished seed is listed last, unranked", () => {
  const doc = syntheticDocument([
    { id: "none", clean: [0.98, 0.98, 0.98], aug: [0.4, 0.4, 0.4] },
    { id: "part", clean: [0.97, 0.97, 0.97], aug: [0.6, 0.6, 0.9], status: ["ok", "ok", "diverged"] },
    { id: "dead", clean: [0.1, 0.1], aug: [0.99, 0.99], status: ["collapsed", "failed"] },
  ]);
  const t = rankTrack(syntheticTrack(), [source(doc)]);
  assert.deepEqual(t.entries.map((e) => [e.rank, e.method, e.failed]), [[1, "part", 1], [2, "none", 0], [
    undefined,
    "dead",
    2,
  ]]);
  assert.ok(Math.abs(t.entries[0].accAug!.mean - 0.6) < 1e-12, "the diverged seed is left out of the mean");
  assert.deepEqual(t.entries[0].accAug, summarize([0.6, 0.6]));
});

Deno.test("ranking: only the track's group and matrix enter its table", () => {
  const doc = syntheticDocument([
    { id: "none", clean: [0.98], aug: [0.4] },
    { id: "none", clean: [0.98], aug: [0.3], augmentation: "noise" },
  ]);
  assert.equal(rankTrack(syntheticTrack(), [source(doc)]).entries.length, 1);
  assert.equal(
    rankTrack(syntheticTrack({ augmentation: "noise" }), [source(doc)]).entries[0].accAug!.mean,
    0.3,
  );
  const otherVersion = syntheticTrack({ matrix: { ...syntheticTrack().matrix, version: "2.0.0" } });
  assert.equal(rankTrack(otherVersion, [source(doc)]).entries.length, 0);
});

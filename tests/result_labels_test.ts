/**
 * What result.md and the leaderboard call a row and how they show collision rates: a row of
 * kind `none` is named for its classifier (one function, src/results/method_label.ts); the
 * collision rate of (F, t) appears once per (dataset, backbone, augmentation), and the rate in
 * E∘F's space per method when the rows carry it (results before the metric do not).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { boardTable } from "../src/leaderboard/board_table.ts";
import { fCollisionNote } from "../src/leaderboard/collision_note.ts";
import { renderLeaderboardMarkdown } from "../src/leaderboard/markdown.ts";
import { rankTrack } from "../src/leaderboard/ranking.ts";
import type { Track } from "../src/leaderboard/tracks.ts";
import { fCollisions } from "../src/results/f_collision.ts";
import { methodLabel } from "../src/results/method_label.ts";
import type { ResultDocument } from "../src/results/schema.ts";
import { summarize } from "../src/results/stats.ts";
import { renderMarkdown, summarizeRows } from "../src/results/table.ts";
import { ROOT } from "./fixtures/leaderboard/helpers.ts";

const DEFAULT = join(ROOT, "results/default/1.0.0/result.json");

async function defaultDoc(): Promise<ResultDocument> {
  return JSON.parse(await Deno.readTextFile(DEFAULT));
}

function rotationTrack(doc: ResultDocument): Track {
  const { name, version, sha256 } = doc.matrix;
  return {
    id: "rot",
    title: "rotation",
    matrix: { name, version, sha256 },
    dataset: "mnist",
    backbone: "fixture-cnn",
    augmentation: "rotation",
    clean_tolerance: 1,
  };
}

/** The default result with E-space collision rates in its rows (as a later harness writes them). */
async function withECollision(): Promise<ResultDocument> {
  const doc = await defaultDoc();
  const methods = [...new Set(doc.rows.map((r) => r.method))];
  for (const r of doc.rows) {
    const k = (methods.indexOf(r.method) + 1) / (methods.length + 1);
    r.metrics.e_collision_raw = r.metrics.collision_raw! * k;
    r.metrics.e_collision_aligned = r.metrics.collision_aligned! * k;
  }
  doc.summary = summarizeRows(doc.rows);
  return doc;
}

Deno.test("labels: kind none is named for its classifier; everything else keeps its id", () => {
  const spec = {
    methods: [{ id: "ec", kind: "none" }, { id: "mawa", kind: "adapter" }, { id: "tta", kind: "tta" }],
    classifiers: ["linear", { id: "deep", kind: "ec" }, { id: "nc", kind: "mlp" }, {
      id: "odd",
      kind: "new",
    }],
  };
  assert.equal(methodLabel(spec, "ec", "linear"), "no adapter (linear C)");
  assert.equal(methodLabel(spec, "ec", "deep"), "EC: no adapter (deep MLP C)");
  assert.equal(methodLabel(spec, "ec", "nc"), "no adapter (MLP C)");
  assert.equal(methodLabel(spec, "ec", "odd"), "no adapter (odd C)");
  assert.equal(methodLabel(spec, "mawa", "linear"), "mawa");
  assert.equal(methodLabel(spec, "tta", "deep"), "tta");
  // A spec that does not say (or is not a spec) leaves the id.
  assert.equal(methodLabel({}, "ec", "linear"), "ec");
  assert.equal(methodLabel(null, "ec", "linear"), "ec");
});

Deno.test("labels: result.md and the leaderboard name the shipped default's `ec` rows 'no adapter (linear C)'", async () => {
  const doc = await defaultDoc();
  const md = renderMarkdown(doc);
  assert.equal([...md.matchAll(/\| no adapter \(linear C\) \(`ec`\) \| linear \|/g)].length, 2);
  assert.doesNotMatch(md.split("\n## ")[0], /\| ec \|/, "the main table names no row by the bare id");
  const t = rankTrack(rotationTrack(doc), [{ hash: "a".repeat(64), kid: "k", doc }]);
  const html = boardTable(t.entries, { cleanTolerance: 1 }).value;
  assert.match(
    html,
    /<td class="method" data-method="ec"><span class="method-name">no adapter \(linear C\)<\/span>/,
  );
  const board = renderLeaderboardMarkdown([t], { accepted: 1, omitted: 0 });
  assert.match(board, /\| no adapter \(linear C\) \(ec\) \| linear \|/);
});

Deno.test("collision: F's rates are summarised once per group from the rows, each seed counted once", async () => {
  const doc = await defaultDoc();
  const groups = fCollisions(doc);
  assert.deepEqual(groups.map((g) => [g.augmentation, g.seeds]), [["rotation", [0, 1, 2]], ["noise", [
    0,
    1,
    2,
  ]]]);
  for (const g of groups) {
    const perSeed = g.seeds.map((s) =>
      doc.rows.find((r) => r.augmentation === g.augmentation && r.seed === s)!.metrics.collision_raw!
    );
    assert.deepEqual(g.raw, summarize(perSeed));
    // The same numbers every method's summary row repeats: they are F's, not the methods'.
    for (const s of doc.summary.filter((x) => x.augmentation === g.augmentation)) {
      assert.equal(s.metrics.collision_raw.mean, g.raw!.mean);
    }
  }
  const md = renderMarkdown(doc);
  const table = md.slice(md.indexOf("## Collision rates of (F, t): properties of F"));
  const pct = (v: number) => (100 * v).toFixed(2);
  const g = groups[0];
  assert.ok(
    table.includes(
      `| mnist | fixture-cnn | rotation | 3 | ${pct(g.raw!.mean)} ± ${pct(g.raw!.ci95[1] - g.raw!.mean)} |`,
    ),
  );
  assert.equal(
    fCollisionNote([doc], g),
    `raw ${(100 * g.raw!.mean).toFixed(1)} % / aligned ${(100 * g.aligned!.mean).toFixed(1)} %`,
  );
});

Deno.test("collision: without E-space rates (1.0.0) no per-method collision column; with them, one per method", async () => {
  const old = await defaultDoc();
  const oldMd = renderMarkdown(old);
  assert.doesNotMatch(
    oldMd.split("\n## ")[0],
    /collision/i,
    "the main table of a 1.0.0 result has no collision column",
  );
  const oldBoard =
    boardTable(rankTrack(rotationTrack(old), [{ hash: "a".repeat(64), kid: "k", doc: old }]).entries, {
      cleanTolerance: 1,
    }).value;
  assert.doesNotMatch(oldBoard, /collision/i);

  const doc = await withECollision();
  const md = renderMarkdown(doc);
  assert.match(md, /\| NRMSD \| E collision raw \/ aligned % \| passes train \/ test \|/);
  const mawa = doc.summary.find((s) => s.method === "mawa" && s.augmentation === "rotation")!;
  const pct = (s: { mean: number; ci95: [number, number] }) =>
    `${(100 * s.mean).toFixed(2)} ± ${(100 * (s.ci95[1] - s.mean)).toFixed(2)}`;
  assert.ok(
    md.includes(
      `| ${pct(mawa.metrics.e_collision_raw)} / ${pct(mawa.metrics.e_collision_aligned)} | 9 / 1 |`,
    ),
  );
  const t = rankTrack(rotationTrack(doc), [{ hash: "a".repeat(64), kid: "k", doc }]);
  const html = boardTable(t.entries, { cleanTolerance: 1 }).value;
  assert.match(html, />E collision %<\/button>/);
  assert.match(
    html,
    new RegExp(
      `data-value="${mawa.metrics.e_collision_raw.mean}" title="">${
        (100 * mawa.metrics.e_collision_raw.mean).toFixed(1)
      } / `,
    ),
  );
  const board = renderLeaderboardMarkdown([t], { accepted: 1, omitted: 0 });
  assert.match(board, /\| E collision % raw \/ aligned \|/);
  assert.match(
    board,
    /Collision rate of \(F, t\), a property of F \(the same for every method\): raw \d+\.\d %/,
  );
});

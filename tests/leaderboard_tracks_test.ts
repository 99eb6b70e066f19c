import { TracksError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../src/util/hash.ts";
import { parseMatrix } from "../src/catalogs.ts";
import { explainNoTrack, loadTracks, matchTracks, parseTracks } from "../src/leaderboard/tracks.ts";
import { ROOT, syntheticDocument, syntheticTrack, TRACKS } from "./fixtures/leaderboard/helpers.ts";

const SHA = "b".repeat(64);
const valid = (extra = "", trackExtra = "") =>
  `schema: invbench.tracks/v1
${extra}tracks:
  - id: t1
    title: "Track one"
    matrix: { name: m, version: 1.0.0, sha256: ${SHA} }
    dataset: ds
    backbone: bb
    augmentation: rot
    clean_tolerance: 1.5
${trackExtra}`;

function problemsOf(text: string): string {
  try {
    parseTracks(text, "t.yaml");
  } catch (e) {
    assert.ok(e instanceof TracksError, String(e));
    return e.message;
  }
  throw new Error("expected a TracksError");
}

Deno.test("tracks: a valid file parses into typed tracks", () => {
  const t = parseTracks(valid(), "t.yaml");
  assert.equal(t.tracks.length, 1);
  assert.deepEqual(t.tracks[0].matrix, { name: "m", version: "1.0.0", sha256: SHA });
  assert.equal(t.tracks[0].clean_tolerance, 1.5);
});

Deno.test("tracks: strict schema; every problem names the file, line and field", () => {
  const unknown = problemsOf(valid("", "    colour: red\n"));
  assert.match(unknown, /^t\.yaml: invalid tracks file/);
  assert.match(unknown, /line 10, column 13: tracks\[0\]\.colour: unknown field\(s\) "colour"/);
  assert.match(
    problemsOf(valid().replace("invbench.tracks/v1", "invbench.tracks/v0")),
    /expected schema: invbench\.tracks\/v1/,
  );
  assert.match(
    problemsOf(valid().replace(SHA, "ABC")),
    /tracks\[0\]\.matrix\.sha256: a lowercase hex sha256/,
  );
  assert.match(problemsOf(valid().replace("clean_tolerance: 1.5", "clean_tolerance: -1")), /clean_tolerance/);
  assert.match(problemsOf(valid().replace("    clean_tolerance: 1.5\n", "")), /tracks\[0\]\.clean_tolerance/);
  assert.match(problemsOf(valid().replace("id: t1", "id: '<b>'")), /tracks\[0\]\.id: a track id/);
  assert.match(problemsOf(valid("", valid().split("tracks:\n")[1])), /id "t1" is declared twice/);
  assert.match(problemsOf("schema: [unclosed"), /line 1/);
  assert.match(problemsOf("schema: invbench.tracks/v1\ntracks: []\n"), /tracks/);
});

Deno.test("tracks: loadTracks names an unreadable file", async () => {
  await assert.rejects(() => loadTracks("/nonexistent/tracks.yaml"), (e) => {
    assert.ok(e instanceof TracksError);
    assert.match(e.message, /\/nonexistent\/tracks\.yaml: invalid tracks file\n {2}- cannot read the file/);
    return true;
  });
});

Deno.test("tracks: a result matches on matrix name, version and sha256 and on its rows' group", () => {
  const doc = syntheticDocument([
    { id: "none", clean: [0.9], aug: [0.5] },
    { id: "none", clean: [0.9], aug: [0.4], augmentation: "noise" },
  ]);
  const rot = syntheticTrack({ id: "rot" });
  const noise = syntheticTrack({ id: "noise", augmentation: "noise" });
  const crop = syntheticTrack({ id: "crop", augmentation: "crop" });
  assert.deepEqual(matchTracks(doc, [rot, noise, crop]).map((t) => t.id), ["rot", "noise"]);
  for (const field of ["name", "version", "sha256"] as const) {
    const other = syntheticTrack({
      matrix: { ...rot.matrix, [field]: field === "sha256" ? "c".repeat(64) : "other" },
    });
    assert.deepEqual(matchTracks(doc, [other]), [], `a different matrix ${field} must not match`);
  }
  assert.match(
    explainNoTrack(doc, [crop]),
    /has tracks for ds\/bb\/crop, but the result has no rows for any of them/,
  );
  assert.match(
    explainNoTrack(doc, [syntheticTrack({ matrix: { ...rot.matrix, version: "2.0.0" } })]),
    /tracks know this matrix only as version "2\.0\.0"/,
  );
  assert.match(
    explainNoTrack(doc, [syntheticTrack({ matrix: { ...rot.matrix, name: "x" } })]),
    /no track matches matrix "synthetic" version "1\.0\.0" .*known matrices: "x" 1\.0\.0/,
  );
});

Deno.test("tracks: leaderboard/tracks.yaml is valid and has a track per augmentation of the default matrix", async () => {
  const { tracks } = await loadTracks(join(ROOT, "leaderboard/tracks.yaml"));
  const fixtureTracks = (await loadTracks(TRACKS)).tracks;
  assert.ok(
    fixtureTracks.every((f) => !tracks.some((t) => t.id === f.id)),
    "fixture tracks stay out of the real file",
  );
  const file = join(ROOT, "benchmarks/default.yaml");
  const text = await Deno.readTextFile(file);
  const { spec } = parseMatrix(text, file);
  const sha = sha256Hex(text);
  for (const a of spec.augmentations) {
    const found = tracks.find((t) =>
      t.matrix.name === spec.name && t.matrix.version === spec.version && t.matrix.sha256 === sha &&
      t.augmentation === a.id && spec.datasets.some((d) => d.id === t.dataset) &&
      spec.backbones.some((b) => b.id === t.backbone)
    );
    assert.ok(
      found,
      `benchmarks/default.yaml (${spec.name} ${spec.version}, sha256 ${sha}) has no leaderboard track for ` +
        `augmentation "${a.id}": add one to leaderboard/tracks.yaml so that its results can be submitted`,
    );
  }
});

/**
 * A result the harness itself produced (tests/fixtures/tiny.yaml, six cells, a few seconds) goes
 * through `submit` and `leaderboard build` like the hand-made fixtures: what the runner writes is
 * what the leaderboard reads.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildCli } from "../src/cli/main.ts";
import { EXIT, exitCodeOf } from "../src/errors.ts";
import { buildLeaderboard } from "../src/leaderboard/build.ts";
import { submitResult } from "../src/leaderboard/submit.ts";
import { parseTracks } from "../src/leaderboard/tracks.ts";
import { sha256Hex } from "../src/util/hash.ts";
import { runMatrix } from "../src/run/runner.ts";
import { fixtureKey, ROOT, SUBMISSIONS, TRACKS, TRUSTED_KEYS } from "./fixtures/leaderboard/helpers.ts";
import { readJwks } from "../src/results/signing.ts";

Deno.test("leaderboard: a result produced by the runner is submitted, ranked and plotted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-real-" });
  try {
    const matrix = join(ROOT, "tests/fixtures/tiny.yaml");
    await runMatrix({
      matrix,
      out: join(dir, "run"),
      backend: "cpu",
      key: await fixtureKey("trusted-a"),
      cacheDir: join(dir, "cache"),
      progress: () => {},
    });
    const tracks = parseTracks(`schema: invbench.tracks/v1
tracks:
  - id: tiny-rot
    title: tiny
    matrix: { name: tiny-test, version: 0.0.1, sha256: ${sha256Hex(await Deno.readTextFile(matrix))} }
    dataset: mnist
    backbone: fixture
    augmentation: rot
    clean_tolerance: 1
`).tracks;
    await Deno.writeTextFile(
      join(dir, "tracks.yaml"),
      `schema: invbench.tracks/v1\ntracks: ${JSON.stringify(tracks)}\n`,
    );
    const filed = await submitResult(join(dir, "run", "result.json"), {
      to: join(dir, "subs"),
      trusted: await readJwks(TRUSTED_KEYS),
      tracks,
    });
    assert.equal(filed.status, "filed");
    const r = await buildLeaderboard({
      submissions: [join(dir, "subs")],
      keys: TRUSTED_KEYS,
      tracks: join(dir, "tracks.yaml"),
      out: join(dir, "site"),
    });
    assert.equal(r.omitted.length, 0, JSON.stringify(r.omitted));
    const entries = r.tables[0].entries;
    assert.deepEqual(entries.map((e) => e.method).sort(), ["ec", "mawa"]);
    assert.ok(entries.every((e) => e.rank !== undefined && e.accAug && e.accClean && e.cost));
    assert.equal(
      entries.find((e) => e.method === "ec")!.baseline,
      true,
      "the matrix's kind-none method is EC",
    );
    const page = await Deno.readTextFile(join(dir, "site", "submissions", `${filed.hash}.html`));
    assert.match(page, /class="plot plot-accuracy"/);
    const structure = page.slice(page.indexOf('class="plot plot-structure"'));
    assert.ok(
      [...structure.matchAll(/<circle /g)].length > 100,
      "the structure scatter is drawn from the rows' samples",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("leaderboard build CLI: exit 0; --strict exits 3 when a submission was left out; bad input exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-cli-" });
  const log = console.log;
  console.log = () => {};
  const run = async (args: string[]) => {
    try {
      await buildCli().parseAsync(["leaderboard", "build", ...args], { from: "user" });
      return EXIT.ok;
    } catch (e) {
      return exitCodeOf(e);
    }
  };
  try {
    const base = ["--keys", TRUSTED_KEYS, "--tracks", TRACKS];
    assert.equal(await run(["--submissions", SUBMISSIONS, ...base, "--out", join(dir, "a")]), EXIT.ok);
    assert.equal(
      await run(["--submissions", SUBMISSIONS, ...base, "--out", join(dir, "a"), "--strict"]),
      EXIT.verificationFailed,
    );
    assert.equal(
      await run([
        "--submissions",
        join(SUBMISSIONS, "good.json"),
        ...base,
        "--out",
        join(dir, "b"),
        "--strict",
      ]),
      EXIT.ok,
    );
    assert.equal(
      await run(["--submissions", "/nonexistent", ...base, "--out", join(dir, "c")]),
      EXIT.invalidInput,
    );
    assert.equal(
      await run([
        "--submissions",
        SUBMISSIONS,
        "--keys",
        TRUSTED_KEYS,
        "--tracks",
        "/nonexistent.yaml",
        "--out",
        join(dir, "d"),
      ]),
      EXIT.invalidInput,
    );
    assert.equal(
      await run([
        "--submissions",
        SUBMISSIONS,
        "--keys",
        TRACKS,
        "--tracks",
        TRACKS,
        "--out",
        join(dir, "e"),
      ]),
      EXIT.invalidInput,
    );
    await Deno.writeTextFile(join(dir, "f"), "a file, not a site");
    assert.equal(await run(["--submissions", SUBMISSIONS, ...base, "--out", dir]), EXIT.invalidInput);
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `leaderboard build --out` never loses what it did not make (issue 15): submissions, keys or
 * tracks inside OUT are refused before anything is touched, and a build killed at any moment
 * leaves the previous complete site (the next build then works without help).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SITE_MARKER } from "../src/leaderboard/collect.ts";
import { buildArgs, SUBMISSIONS } from "./fixtures/leaderboard/helpers.ts";
import { cli, cliCommand, exists, listDir, snapshot, tempDir } from "./fixtures/harness.ts";

const build = (out: string, submissions = SUBMISSIONS) => buildArgs(submissions, out);

Deno.test("leaderboard out: submissions inside --out (an earlier site) are refused and kept", async () => {
  await using t = await tempDir("lb-inside");
  const site = join(t.dir, "site");
  const first = await cli(build(site));
  assert.equal(first.code, 0, first.stderr);
  // The user files their submissions inside the site folder.
  await Deno.mkdir(join(site, "incoming"));
  for (const name of await listDir(SUBMISSIONS)) {
    if (name.endsWith(".json")) await Deno.copyFile(join(SUBMISSIONS, name), join(site, "incoming", name));
  }
  const before = await snapshot(site);
  const r = await cli(build(site, join(site, "incoming")));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /incoming lies inside --out .*site, which the build replaces/);
  assert.deepEqual(await snapshot(site), before);
});

Deno.test("leaderboard out: --out that is a file exits 2 naming it; the file is unchanged", async () => {
  await using t = await tempDir("lb-file");
  const file = join(t.dir, "notes.txt");
  await Deno.writeTextFile(file, "mine");
  const r = await cli(build(file));
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(`--out ${file}: a file, not a directory`), r.stderr);
  assert.equal(await Deno.readTextFile(file), "mine");
});

Deno.test("leaderboard out: a build killed at any moment leaves the previous complete site", async () => {
  await using t = await tempDir("lb-kill");
  const site = join(t.dir, "site");
  assert.equal((await cli(build(site))).code, 0);
  const complete = await snapshot(site);
  // Kill -9 at increasing moments; the site must always be the complete one, never half of it.
  for (const delay of [200, 400, 600, 800, 1000, 1400]) {
    const child = cliCommand(build(site), { quiet: true }).spawn();
    await new Promise((done) => setTimeout(done, delay));
    try {
      child.kill("SIGKILL");
    } catch { /* already finished */ }
    await child.status;
    assert.deepEqual(await snapshot(site), complete, `killed after ${delay} ms`);
  }
  // The next build cleans up after the killed ones and succeeds.
  const r = await cli(build(site));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await snapshot(site), complete);
  assert.deepEqual(await listDir(t.dir), ["site"], "no staging folder left behind");
  assert.ok(await exists(join(site, SITE_MARKER)));
});

import { InputError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildLeaderboard } from "../src/leaderboard/build.ts";
import { contentHash } from "../src/leaderboard/check.ts";
import { submitResult } from "../src/leaderboard/submit.ts";
import { loadTracks } from "../src/leaderboard/tracks.ts";
import { readJwks } from "../src/results/signing.ts";
import { fixture, readFixture, SUBMISSIONS, TRACKS, TRUSTED_KEYS } from "./fixtures/leaderboard/helpers.ts";

const build = (submissions: string[], out: string, say?: (l: string) => void) =>
  buildLeaderboard({ submissions, keys: TRUSTED_KEYS, tracks: TRACKS, out, say });

async function files(dir: string, prefix = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix + e.name;
    if (e.isDirectory) { for (const [k, v] of await files(join(dir, e.name), rel + "/")) out.set(k, v); }
    else out.set(rel, await Deno.readTextFile(join(dir, e.name)));
  }
  return out;
}

Deno.test("build: bad submissions are omitted and the log says which and why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-build-" });
  try {
    const said: string[] = [];
    const r = await build([SUBMISSIONS], join(dir, "site"), (l) => said.push(l));
    assert.deepEqual(r.accepted.map((s) => s.file.split("/").pop()), ["good.json", "worse.json", "xss.json"]);
    assert.deepEqual(r.omitted.map((o) => [o.file.split("/").pop(), o.reason]), [
      ["tampered.json", "bad-signature"],
      ["untrusted.json", "untrusted-key"],
    ]);
    const log = await Deno.readTextFile(join(dir, "site", "build.log"));
    assert.equal(log, said.join("\n") + "\n");
    assert.match(log, /^omitted .*tampered\.json: bad-signature: the signature does not verify/m);
    assert.match(
      log,
      /^omitted .*untrusted\.json: untrusted-key: signed by key \S+, which is not in the trusted keys/m,
    );
    assert.match(log, /^accepted .*good\.json: [0-9a-f]{12}, signed by \S+, tracks fixture-rotation$/m);
    assert.match(log, /^3 accepted, 2 omitted → /m);
    const site = await files(join(dir, "site"));
    const hashes = await Promise.all(
      ["good.json", "worse.json", "xss.json"].map(async (f) => contentHash(await readFixture(f))),
    );
    const expected = [
      ".invbench-leaderboard",
      "build.log",
      "favicon.svg",
      "filter.js",
      "index.html",
      "leaderboard.md",
      "sort.js",
      "style.css",
      "trusted_keys.jwks",
      ...hashes.flatMap((h) => [`submissions/${h}.html`, `submissions/${h}.json`]),
    ].sort();
    assert.deepEqual([...site.keys()].sort(), expected);
    assert.deepEqual(JSON.parse(site.get("trusted_keys.jwks")!), await readJwks(TRUSTED_KEYS));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build: the same inputs give byte-identical sites; an earlier build is replaced whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-build-" });
  try {
    await build([SUBMISSIONS], join(dir, "a"));
    await build([SUBMISSIONS], join(dir, "b"));
    const a = await files(join(dir, "a")), b = await files(join(dir, "b"));
    // The log's last line names the output directory; everything else is identical.
    a.set("build.log", a.get("build.log")!.replace(join(dir, "a"), "OUT"));
    b.set("build.log", b.get("build.log")!.replace(join(dir, "b"), "OUT"));
    assert.deepEqual(a, b);
    // Rebuild "a" from the good submission only: the other detail pages must be gone.
    await build([fixture("good.json")], join(dir, "a"));
    const pages = [...(await files(join(dir, "a"))).keys()].filter((k) => k.endsWith(".html"));
    assert.deepEqual(
      pages.sort(),
      ["index.html", `submissions/${contentHash(await readFixture("good.json"))}.html`].sort(),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build: refuses a non-empty output directory that holds no earlier build", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-build-" });
  try {
    await Deno.writeTextFile(join(dir, "precious.txt"), "keep me");
    await assert.rejects(() => build([SUBMISSIONS], dir), InputError);
    assert.equal(await Deno.readTextFile(join(dir, "precious.txt")), "keep me");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build: duplicates and unreadable files in a submissions directory are omitted; a site inside it is skipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-build-" });
  try {
    const subs = join(dir, "subs");
    await Deno.mkdir(join(subs, "nested"), { recursive: true });
    await Deno.copyFile(fixture("good.json"), join(subs, "a.json"));
    await Deno.copyFile(fixture("good.json"), join(subs, "nested", "b.json"));
    await Deno.writeTextFile(join(subs, "c.json"), "{broken");
    await Deno.writeTextFile(join(subs, "notes.txt"), "not a submission");
    await build([subs], join(subs, "site"));
    const r = await build([subs], join(subs, "site")); // the second build must not read the first one's copies
    assert.deepEqual(r.accepted.map((s) => s.file), [join(subs, "a.json")]);
    assert.deepEqual(r.omitted.map((o) => [o.file, o.reason]), [
      [join(subs, "c.json"), "unreadable"],
      [join(subs, "nested", "b.json"), "duplicate"],
    ]);
    assert.match(r.omitted[1].detail, /same content as .*a\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build: submit then build round trip", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-build-" });
  try {
    const o = {
      to: join(dir, "subs"),
      trusted: await readJwks(TRUSTED_KEYS),
      tracks: (await loadTracks(TRACKS)).tracks,
    };
    for (const f of ["good.json", "worse.json"]) await submitResult(fixture(f), o);
    const r = await build([o.to], join(dir, "site"));
    assert.equal(r.accepted.length, 2);
    assert.equal(r.omitted.length, 0);
    assert.ok(r.accepted.every((s) => s.file.endsWith(`${s.hash}.json`)));
    assert.equal(r.tables[0].entries[0].method, "mawa");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build: leaderboard.md lists each track's ranked table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "invbench-build-" });
  try {
    await build([SUBMISSIONS], dir);
    const md = await Deno.readTextFile(join(dir, "leaderboard.md"));
    const rows = md.split("\n").filter((l) => /^\| \d+ \|/.test(l));
    assert.equal(rows.length, 16);
    assert.match(
      rows[0],
      /^\| 1 \| mawa \| linear \| [0-9a-f]{12} \| 78\.10 ± 1\.79 \| 98\.40 ± 0\.72 \| −0\.30 \|/,
    );
    assert.match(rows[3], /^\| 4 \| simclr .*\*\*alters F\*\* \(3\.60 points below no adapter\) \|$/);
    assert.match(
      md,
      /## Fixture: MNIST, fixture CNN, Gaussian noise \(fixture-noise\)\n\n.*\n\nNo submissions yet\./,
    );
    assert.match(md, /3 submission\(s\) accepted, 2 omitted/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

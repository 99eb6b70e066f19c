/**
 * `invbench leaderboard build`: re-verifies every submission (check.ts), leaves out the bad ones
 * and duplicates with the reason in the build log, ranks each track, and writes the static site:
 *
 *   OUT/index.html, style.css, sort.js,       the tracks' sortable tables, the filter to reproduced
 *   filter.js                                 entries (and favicon.svg)
 *   OUT/submissions/<hash>.html, <hash>.json  per submission: details and plots, and the signed result
 *   OUT/trusted_keys.jwks                     the keys the build trusted
 *   OUT/leaderboard.md, OUT/build.log
 *
 * Output names come only from content hashes and track ids; the build is deterministic (no
 * timestamps), so two builds from the same inputs are byte-identical.
 *
 * The site is written into a sibling staging directory and renamed into place only when complete,
 * so a build killed at any moment leaves the previous site (or none) as it was; staging folders of
 * killed builds are removed by the next build. OUT is replaced only when it holds an earlier build,
 * and never when an input (a submission, the keys, the tracks) lies inside it.
 */
import { InputError, SubmissionError } from "../errors.ts";
import { randomBytes } from "node:crypto";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { processAlive } from "../run/process.ts";
import { type AttestationRecord, readAttestations, standingOf } from "./attestations.ts";
import { type CheckedSubmission, checkSubmissionFile, readTrustedKeys } from "./check.ts";
import { collectSubmissionFiles, SITE_MARKER } from "./collect.ts";
import { detailPage } from "./detail_page.ts";
import { shortHash } from "./format.ts";
import { indexPage, type Omission } from "./index_page.ts";
import { renderLeaderboardMarkdown } from "./markdown.ts";
import { rankTrack, type TrackTable } from "./ranking.ts";
import { loadTracks } from "./tracks.ts";

export interface BuildOptions {
  /** Submission files or directories (searched recursively for *.json). */
  submissions: readonly string[];
  /** Trusted keys (JWKS). */
  keys: string;
  /** Tracks file. */
  tracks: string;
  out: string;
  /** Reproduction attestations (files or directories of *.json), signed by trusted keys. */
  attestations?: readonly string[];
  /** Receives each log line as it is written (default: none). */
  say?: (line: string) => void;
}

export interface BuildResult {
  accepted: CheckedSubmission[];
  omitted: Omission[];
  tables: TrackTable[];
  log: string[];
}

const ASSETS = ["style.css", "sort.js", "filter.js", "favicon.svg"] as const;

/** The real path of `path` (of its nearest existing ancestor, for one not yet created). */
async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await Deno.realPath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realPathOf(parent), basename(abs));
  }
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Checks OUT before any work: a new directory, an empty one, or an earlier build; no input inside. */
async function checkOut(out: string, inputs: readonly string[]): Promise<boolean> {
  const entries: string[] = [];
  try {
    for await (const e of Deno.readDir(out)) entries.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotADirectory) {
      throw new InputError(
        `--out ${out}: a file, not a directory; choose an empty or new directory`,
      );
    }
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (entries.length && !entries.includes(SITE_MARKER)) {
    throw new InputError(
      `${out} is not empty and holds no earlier leaderboard build (${SITE_MARKER}); choose an empty or new --out directory`,
    );
  }
  const realOut = await realPathOf(out);
  for (const input of inputs) {
    if (isInside(await realPathOf(input), realOut)) {
      throw new InputError(
        `${input} lies inside --out ${out}, which the build replaces; move it out or choose another --out`,
      );
    }
  }
  return entries.length > 0;
}

/** `.<name of OUT>.<what>-<pid>-<hex>` beside OUT: staging and previous sites of a build. */
function siblingName(out: string, what: "building" | "previous"): string {
  return join(dirname(out), `.${basename(out)}.${what}-${Deno.pid}-${randomBytes(6).toString("hex")}`);
}

/** Removes staging folders of builds of OUT that were killed (their process is gone). */
async function removeKilledBuilds(out: string): Promise<void> {
  const prefix = `.${basename(out)}.`;
  const pattern = /^(?:building|previous)-(\d+)-[0-9a-f]{12}$/;
  try {
    for await (const e of Deno.readDir(dirname(out))) {
      const m = e.isDirectory && e.name.startsWith(prefix) ? pattern.exec(e.name.slice(prefix.length)) : null;
      if (m && !processAlive(Number(m[1]))) {
        await Deno.remove(join(dirname(out), e.name), { recursive: true }).catch(() => {});
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

export async function buildLeaderboard(o: BuildOptions): Promise<BuildResult> {
  const log: string[] = [];
  const say = (line: string) => {
    log.push(line);
    o.say?.(line);
  };
  const hasEarlierBuild = await checkOut(o.out, [...o.submissions, o.keys, o.tracks]);
  const trusted = await readTrustedKeys(o.keys);
  const { tracks } = await loadTracks(o.tracks);
  const files = await collectSubmissionFiles(o.submissions);
  say(
    `leaderboard build: ${files.length} file(s), ${tracks.length} track(s), ${trusted.keys.length} trusted key(s)`,
  );

  const accepted: CheckedSubmission[] = [];
  const omitted: Omission[] = [];
  const byHash = new Map<string, string>();
  for (const { path: file, label } of files) {
    try {
      const s = await checkSubmissionFile(file, trusted, tracks);
      const first = byHash.get(s.hash);
      if (first) {
        throw new SubmissionError("duplicate", file, `same content as ${first} (${shortHash(s.hash)})`);
      }
      byHash.set(s.hash, label);
      accepted.push(s);
      say(
        `accepted ${file}: ${shortHash(s.hash)}, signed by ${s.kid}, tracks ${
          s.tracks.map((t) => t.id).join(", ")
        }`,
      );
    } catch (e) {
      if (!(e instanceof SubmissionError)) throw e;
      omitted.push({ file, label, reason: e.reason, detail: e.detail });
      say(`omitted ${file}: ${e.reason}: ${e.detail}`);
    }
  }
  const attestations = o.attestations?.length
    ? await readAttestations(o.attestations, trusted, say)
    : new Map<string, AttestationRecord[]>();
  for (const hash of attestations.keys()) {
    if (!byHash.has(hash)) say(`attestation of ${shortHash(hash)}: no such submission; ignored`);
  }
  const standings = new Map(accepted.map((s) => [s.hash, standingOf(s, attestations)]));
  for (const s of accepted) say(`standing ${shortHash(s.hash)}: ${standings.get(s.hash)!.state}`);
  const sources = accepted.map((s) => ({
    hash: s.hash,
    kid: s.kid,
    doc: s.doc,
    standing: standings.get(s.hash)!.state,
  }));
  const tables = tracks.map((t) => rankTrack(t, sources));
  for (const t of tables) {
    say(`track ${t.track.id}: ${t.submissions} submission(s), ${t.entries.length} entries`);
  }
  say(`${accepted.length} accepted, ${omitted.length} omitted → ${o.out}`);

  await Deno.mkdir(dirname(resolve(o.out)), { recursive: true });
  await removeKilledBuilds(o.out);
  const staging = siblingName(o.out, "building");
  try {
    await Deno.mkdir(join(staging, "submissions"), { recursive: true });
    const write = (name: string, text: string) => Deno.writeTextFile(join(staging, name), text);
    for (const asset of ASSETS) {
      await Deno.writeTextFile(
        join(staging, asset),
        await Deno.readTextFile(new URL(`./assets/${asset}`, import.meta.url)),
      );
    }
    await write("index.html", indexPage(tables, accepted.length, omitted));
    for (const s of accepted) {
      await write(`submissions/${s.hash}.html`, detailPage(s, standings.get(s.hash)!));
      await write(`submissions/${s.hash}.json`, JSON.stringify(s.raw, null, 2) + "\n");
    }
    await write("trusted_keys.jwks", JSON.stringify(trusted, null, 2) + "\n");
    await write(
      "leaderboard.md",
      renderLeaderboardMarkdown(tables, { accepted: accepted.length, omitted: omitted.length }),
    );
    await write("build.log", log.join("\n") + "\n");
    await write(
      SITE_MARKER,
      "a site written by `invbench leaderboard build`; the next build replaces this directory\n",
    );
  } catch (e) {
    // A failed build (a full disk) leaves nothing half-written beside OUT.
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw e;
  }
  // The complete site replaces the earlier one as a whole (pages of submissions since omitted do
  // not linger); only the moment between the two renames has no site at OUT.
  if (hasEarlierBuild) {
    const previous = siblingName(o.out, "previous");
    await Deno.rename(o.out, previous);
    await Deno.rename(staging, o.out);
    await Deno.remove(previous, { recursive: true });
  } else {
    await Deno.remove(o.out).catch(() => {}); // an empty directory
    await Deno.rename(staging, o.out);
  }
  return { accepted, omitted, tables, log };
}

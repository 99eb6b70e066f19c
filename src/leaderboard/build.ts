/**
 * `invbench leaderboard build`: re-verifies every submission (check.ts), leaves out the bad ones
 * and duplicates with the reason in the build log, ranks each track, and writes the static site:
 *
 *   OUT/index.html, style.css, sort.js        the tracks' sortable tables (and favicon.svg)
 *   OUT/submissions/<hash>.html, <hash>.json  per submission: details and plots, and the signed result
 *   OUT/trusted_keys.jwks                     the keys the build trusted
 *   OUT/leaderboard.md, OUT/build.log
 *
 * Output names come only from content hashes and track ids; the build is deterministic (no
 * timestamps), so two builds from the same inputs are byte-identical.
 */
import { InputError, SubmissionError } from "../errors.ts";
import { join } from "node:path";
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
  /** Receives each log line as it is written (default: none). */
  say?: (line: string) => void;
}

export interface BuildResult {
  accepted: CheckedSubmission[];
  omitted: Omission[];
  tables: TrackTable[];
  log: string[];
}

const ASSETS = ["style.css", "sort.js", "favicon.svg"] as const;

async function prepareOut(out: string): Promise<void> {
  const entries: string[] = [];
  try {
    for await (const e of Deno.readDir(out)) entries.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (entries.length && !entries.includes(SITE_MARKER)) {
    throw new InputError(
      `${out} is not empty and holds no earlier leaderboard build (${SITE_MARKER}); choose an empty or new --out directory`,
    );
  }
  // An earlier build is replaced as a whole, so pages of submissions since omitted do not linger.
  if (entries.length) await Deno.remove(out, { recursive: true });
  await Deno.mkdir(join(out, "submissions"), { recursive: true });
}

export async function buildLeaderboard(o: BuildOptions): Promise<BuildResult> {
  const log: string[] = [];
  const say = (line: string) => {
    log.push(line);
    o.say?.(line);
  };
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
  const sources = accepted.map((s) => ({ hash: s.hash, kid: s.kid, doc: s.doc }));
  const tables = tracks.map((t) => rankTrack(t, sources));
  for (const t of tables) {
    say(`track ${t.track.id}: ${t.submissions} submission(s), ${t.entries.length} entries`);
  }
  say(`${accepted.length} accepted, ${omitted.length} omitted → ${o.out}`);

  await prepareOut(o.out);
  const write = (name: string, text: string) => Deno.writeTextFile(join(o.out, name), text);
  for (const asset of ASSETS) {
    await Deno.writeTextFile(
      join(o.out, asset),
      await Deno.readTextFile(new URL(`./assets/${asset}`, import.meta.url)),
    );
  }
  await write("index.html", indexPage(tables, accepted.length, omitted));
  for (const s of accepted) {
    await write(`submissions/${s.hash}.html`, detailPage(s));
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
  return { accepted, omitted, tables, log };
}

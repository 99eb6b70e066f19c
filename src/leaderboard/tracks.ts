/**
 * Leaderboard tracks (`leaderboard/tracks.yaml`, schema `invbench.tracks/v1`). A track is one
 * table of the leaderboard: the results of one matrix (name, version and sha256 must all match,
 * or name, version and protocol for the matrix with methods added) on one dataset, backbone and
 * augmentation. `clean_tolerance` is in points of clean accuracy:
 * a method whose clean accuracy lies more than that below the no-adapter baseline (EC) of the
 * same submission is marked as breaking "do not alter F".
 */
import { TracksError } from "../errors.ts";
import { isNode, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { decodeUtf8, yamlValue } from "../matrix/yaml_value.ts";
import { protocolHash } from "../matrix/protocol.ts";
import type { ResultDocument } from "../results/schema.ts";

export const TRACKS_SCHEMA_ID = "invbench.tracks/v1";

/** Track ids become HTML anchors and file names, so they are restricted to a safe alphabet. */
const trackId = z.string().regex(
  /^[a-z0-9][a-z0-9_.-]{0,63}$/,
  "a track id: lowercase letters, digits, '_', '.', '-'",
);
const text = z.string().min(1);

export const Track = z.strictObject({
  id: trackId,
  title: text,
  matrix: z.strictObject({
    name: text,
    version: text,
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256 (64 characters)"),
    /**
     * The matrix's protocol hash (src/matrix/protocol.ts): results of a matrix with the same name,
     * version and protocol, i.e. this matrix with methods added (method files), belong to the
     * track too. Absent: only the exact matrix file (sha256) belongs.
     */
    protocol: z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256 (64 characters)").optional(),
  }),
  dataset: text,
  backbone: text,
  augmentation: text,
  /** Points (percentage points) of clean accuracy below EC beyond which a method is marked. */
  clean_tolerance: z.number().nonnegative().finite(),
});

export const TracksFile = z.strictObject({
  schema: z.literal(TRACKS_SCHEMA_ID),
  tracks: z.array(Track).min(1),
});

export type Track = z.infer<typeof Track>;
export type TracksFile = z.infer<typeof TracksFile>;

function describePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("") ||
    "(top level)";
}

/** Parses and validates a tracks file's text; every problem names the line, column and field. */
export function parseTracks(source: string, file = "<tracks>"): TracksFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return "";
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}: `;
  };
  if (doc.errors.length) {
    throw new TracksError(file, doc.errors.map((e) => `${at(e.pos[0])}${e.message.split("\n")[0]}`));
  }
  const plain = yamlValue(doc);
  if ("problem" in plain) throw new TracksError(file, [`${at(plain.offset)}${plain.problem}`]);
  const parsed = TracksFile.safeParse(plain.value);
  if (!parsed.success) {
    throw new TracksError(
      file,
      parsed.error.issues.map((issue) => {
        const full =
          (issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path) as PropertyKey[];
        let path = full;
        let node = doc.getIn(path, true);
        while (!isNode(node) && path.length) {
          path = path.slice(0, -1);
          node = path.length ? doc.getIn(path, true) : doc.contents;
        }
        const where = isNode(node) && node.range ? at(node.range[0]) : "";
        const message = issue.code === "unrecognized_keys"
          ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}; remove or fix the spelling`
          : issue.path.length === 1 && issue.path[0] === "schema"
          ? `expected schema: ${TRACKS_SCHEMA_ID}`
          : issue.message;
        return `${where}${describePath(full)}: ${message}`;
      }),
    );
  }
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const t of parsed.data.tracks) {
    if (seen.has(t.id)) problems.push(`tracks: id "${t.id}" is declared twice; ids must be unique`);
    seen.add(t.id);
  }
  if (problems.length) throw new TracksError(file, problems);
  return parsed.data;
}

/** Reads and validates a tracks file. */
export async function loadTracks(path: string): Promise<TracksFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new TracksError(path, [`cannot read the file: ${(e as Error).message}`]);
  }
  const source = decodeUtf8(bytes);
  if (typeof source !== "string") throw new TracksError(path, [source.problem]);
  return parseTracks(source, path);
}

/**
 * True when the document ran the track's matrix: name and version equal, and the same file
 * (sha256) or, where the track gives one, the same protocol (the matrix with methods added).
 */
export function sameMatrix(track: Track, doc: Pick<ResultDocument, "matrix">): boolean {
  return track.matrix.name === doc.matrix.name && track.matrix.version === doc.matrix.version &&
    (track.matrix.sha256 === doc.matrix.sha256 ||
      (track.matrix.protocol !== undefined && track.matrix.protocol === protocolHash(doc.matrix.spec)));
}

/**
 * The tracks a result belongs to: same matrix, and at least one row on the track's dataset,
 * backbone and augmentation.
 */
export function matchTracks(doc: Pick<ResultDocument, "matrix" | "rows">, tracks: readonly Track[]): Track[] {
  return tracks.filter((t) =>
    sameMatrix(t, doc) &&
    doc.rows.some((r) =>
      r.dataset === t.dataset && r.backbone === t.backbone && r.augmentation === t.augmentation
    )
  );
}

/** Why no track matched, for the refusal message. */
export function explainNoTrack(
  doc: Pick<ResultDocument, "matrix" | "rows">,
  tracks: readonly Track[],
): string {
  const m = doc.matrix;
  const sameName = tracks.filter((t) => t.matrix.name === m.name);
  const exact = tracks.filter((t) => sameMatrix(t, doc));
  const what = `matrix "${m.name}" version "${m.version}" (sha256 ${m.sha256.slice(0, 12)}…)`;
  if (exact.length) {
    const groups = exact.map((t) => `${t.dataset}/${t.backbone}/${t.augmentation}`).join(", ");
    return `no track matches: ${what} has tracks for ${groups}, but the result has no rows for any of them`;
  }
  if (sameName.length) {
    const known = sameName.map((t) =>
      `version "${t.matrix.version}" sha256 ${t.matrix.sha256.slice(0, 12)}…`
    );
    return `no track matches ${what}; tracks know this matrix only as ${[...new Set(known)].join(", ")}`;
  }
  return `no track matches ${what}; known matrices: ${
    [...new Set(tracks.map((t) => `"${t.matrix.name}" ${t.matrix.version}`))].join(", ")
  }`;
}

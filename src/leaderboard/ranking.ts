/**
 * One track's table: every (submission, method, classifier) on the track's dataset, backbone and
 * augmentation, ranked by augmented accuracy (mean over seeds; ties share a rank, "1224"), with
 * clean accuracy, structure, collision in E's space (when the result has it) and cost beside it. A method whose clean accuracy lies
 * more than the track's `clean_tolerance` points below the no-adapter baseline (EC, method kind
 * `none`) of the same submission is marked as altering F.
 */
import type { CostProfile, ResultDocument, SummaryRow } from "../results/schema.ts";
import type { Summary } from "../results/stats.ts";
import { methodKind, methodLabel } from "../results/method_label.ts";
import type { Track } from "./tracks.ts";
import type { StandingState } from "./attestations.ts";

/** The parts of a checked submission that ranking needs. */
export interface RankedSource {
  hash: string;
  kid: string;
  doc: ResultDocument;
  /** Trusted, self-reported, reproduced or disputed (attestations.ts); absent on detail pages. */
  standing?: StandingState;
}

export interface Entry {
  submission: RankedSource;
  dataset: string;
  backbone: string;
  augmentation: string;
  method: string;
  classifier: string;
  /** What the reader sees for the method (method_label.ts): "no adapter (linear C)" for kind none. */
  label: string;
  /** The method's kind from the matrix (none, adapter, ...), when the matrix names it. */
  kind?: string;
  baseline: boolean;
  seeds: number[];
  failed: number;
  accAug?: Summary;
  accClean?: Summary;
  r2?: Summary;
  slope?: Summary;
  nrmsd?: Summary;
  /** Collision rates in E∘F's space (absent in results before the metric existed). */
  eCollisionRaw?: Summary;
  eCollisionAligned?: Summary;
  trainSeconds?: Summary;
  cost?: CostProfile;
  flags: string[];
  /** Mean clean accuracy of the submission's EC for this entry, and the drop below it in points. */
  baselineClean?: number;
  cleanDropPoints?: number;
  /** Clean accuracy more than `clean_tolerance` points below EC: breaks "do not alter F". */
  altersF: boolean;
  /** 1-based; undefined when no seed produced an augmented accuracy. */
  rank?: number;
}

export interface TrackTable {
  track: Track;
  entries: Entry[];
  submissions: number;
}

/** The method ids the matrix declares with kind `none`; "none" and "ec" when it declares none. */
export function baselineMethods(doc: ResultDocument): Set<string> {
  const methods = doc.matrix.spec.methods;
  const ids = Array.isArray(methods)
    ? methods.filter((m) => (m as { kind?: unknown })?.kind === "none").map((m) =>
      String((m as { id: unknown }).id)
    )
    : [];
  return new Set(ids.length ? ids : ["none", "ec"]);
}

/** Points are rounded to 1e-9 so that 98.7 − 96.7 = 2 is not 2.0000000000000018. */
function points(fractionDrop: number): number {
  return Math.round(fractionDrop * 100 * 1e9) / 1e9;
}

function entriesOf(track: Track, source: RankedSource): Entry[] {
  const { doc } = source;
  const onTrack = (s: Pick<SummaryRow, "dataset" | "backbone" | "augmentation">) =>
    s.dataset === track.dataset && s.backbone === track.backbone && s.augmentation === track.augmentation;
  const rows = doc.summary.filter(onTrack);
  const baselines = baselineMethods(doc);
  const baselineRows = rows.filter((s) => baselines.has(s.method) && s.metrics.acc_clean);
  return rows.map((s) => {
    const cells = doc.rows.filter((r) =>
      onTrack(r) && r.method === s.method && r.classifier === s.classifier
    );
    const ok = cells.filter((r) => r.status === "ok");
    const baseline = baselines.has(s.method);
    // EC of the same classifier when there is one, else the best EC of the submission on this track.
    const ec = baselineRows.find((b) => b.classifier === s.classifier) ??
      baselineRows.toSorted((a, b) => b.metrics.acc_clean.mean - a.metrics.acc_clean.mean)[0];
    const clean = s.metrics.acc_clean;
    const baselineClean = ec?.metrics.acc_clean.mean;
    const cleanDropPoints = !baseline && clean && baselineClean !== undefined
      ? points(baselineClean - clean.mean)
      : undefined;
    return {
      submission: source,
      dataset: s.dataset,
      backbone: s.backbone,
      augmentation: s.augmentation,
      method: s.method,
      classifier: s.classifier,
      label: methodLabel(doc.matrix.spec, s.method, s.classifier),
      kind: methodKind(doc.matrix.spec, s.method),
      baseline,
      seeds: s.seeds,
      failed: s.failed,
      accAug: s.metrics.acc_aug,
      accClean: clean,
      r2: s.metrics.r2,
      slope: s.metrics.slope,
      nrmsd: s.metrics.nrmsd,
      eCollisionRaw: s.metrics.e_collision_raw,
      eCollisionAligned: s.metrics.e_collision_aligned,
      trainSeconds: s.metrics.train_seconds,
      cost: (ok[0] ?? cells[0])?.cost,
      flags: [...new Set(cells.flatMap((r) => r.flags))].sort(),
      baselineClean,
      cleanDropPoints,
      altersF: cleanDropPoints !== undefined && cleanDropPoints > track.clean_tolerance,
    };
  });
}

/** Sort order of a table: augmented accuracy, then clean accuracy, then names (deterministic). */
function compareEntries(a: Entry, b: Entry): number {
  const aug = (e: Entry) => e.accAug?.mean ?? -Infinity;
  const clean = (e: Entry) => e.accClean?.mean ?? -Infinity;
  return aug(b) - aug(a) || clean(b) - clean(a) ||
    (a.method < b.method ? -1 : a.method > b.method ? 1 : 0) ||
    (a.classifier < b.classifier ? -1 : a.classifier > b.classifier ? 1 : 0) ||
    (a.submission.hash < b.submission.hash ? -1 : a.submission.hash > b.submission.hash ? 1 : 0);
}

/** The ranked table of `track` over the submissions that belong to it. */
export function rankTrack(track: Track, sources: readonly RankedSource[]): TrackTable {
  const mine = sources.filter((s) =>
    s.doc.matrix.name === track.matrix.name && s.doc.matrix.version === track.matrix.version &&
    s.doc.matrix.sha256 === track.matrix.sha256
  );
  const entries = mine.flatMap((s) => entriesOf(track, s)).sort(compareEntries);
  let rank = 0;
  entries.forEach((e, i) => {
    if (!e.accAug) return;
    const previous = entries[i - 1];
    rank = i > 0 && previous.accAug && previous.accAug.mean === e.accAug.mean ? rank : i + 1;
    e.rank = rank;
  });
  return { track, entries, submissions: new Set(entries.map((e) => e.submission.hash)).size };
}

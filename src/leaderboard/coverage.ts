/**
 * Whether a result covers a track: every cell of the track's (dataset, backbone, augmentation)
 * group in the track's matrix must have a row. A shard, a filtered run or a result with rows cut
 * out ranks methods on fewer seeds or without their baseline, so it is refused, not ranked.
 *
 * The group's cells come from expanding the matrix the document records (`matrix.spec`, the
 * parsed matrix whose file has the track's sha256); a row stands for a cell when its dataset,
 * backbone, augmentation, method, classifier and seed are the cell's.
 */
import { CATALOGS, expandMatrix, MatrixSpec } from "../catalogs.ts";
import type { Cell } from "../matrix/expand.ts";
import type { ResultDocument } from "../results/schema.ts";
import type { Track } from "./tracks.ts";

const identity = (
  c: Pick<Cell, "dataset" | "backbone" | "augmentation" | "method" | "classifier" | "seed">,
) => JSON.stringify([c.dataset, c.backbone, c.augmentation, c.method, c.classifier, c.seed]);

/**
 * The recorded spec with every method file's adapter given a built-in loss: the cells' identities
 * (what coverage compares) do not depend on the loss, and expanding a method file would need it
 * loaded in the sandbox. (Such cells' ids then differ from the rows'; messages name them by identity.)
 */
function identitySpec(spec: Record<string, unknown>): Record<string, unknown> {
  const builtIn = (loss: unknown) => CATALOGS.losses.some((l) => l.name === loss);
  const methods = Array.isArray(spec.methods) ? spec.methods : [];
  return {
    ...spec,
    methods: methods.map((m: Record<string, unknown>) =>
      m?.kind === "adapter" && !builtIn(m.loss) ? { ...m, loss: CATALOGS.losses[0].name, params: {} } : m
    ),
  };
}

/** The cells of the track's group in the document's matrix; null when its spec does not parse. */
function trackGroupCells(doc: Pick<ResultDocument, "matrix">, track: Track): Cell[] | null {
  const spec = MatrixSpec.safeParse(identitySpec(doc.matrix.spec));
  if (!spec.success) return null;
  return expandMatrix(spec.data).filter((c) =>
    c.dataset === track.dataset && c.backbone === track.backbone && c.augmentation === track.augmentation
  );
}

/** The group's cells that have no row among `rows`. */
function withoutRows(group: readonly Cell[], rows: ResultDocument["rows"]): Cell[] {
  const have = new Set(rows.map(identity));
  return group.filter((c) => !have.has(identity(c)));
}

/** The cells of the track's group that the document has no row for; null when its spec does not parse. */
export function missingTrackCells(doc: Pick<ResultDocument, "matrix" | "rows">, track: Track): Cell[] | null {
  const group = trackGroupCells(doc, track);
  return group === null ? null : withoutRows(group, doc.rows);
}

/** Why a document does not cover a track, or null when it does. */
export function explainIncomplete(doc: Pick<ResultDocument, "matrix" | "rows">, track: Track): string | null {
  const group = trackGroupCells(doc, track);
  if (group === null) return `track ${track.id}: the document's matrix.spec is not a valid matrix`;
  const missing = withoutRows(group, doc.rows);
  if (!missing.length) return null;
  const named = missing.slice(0, 6).map((c) => `${c.method}/${c.classifier} seed ${c.seed} (cell ${c.id})`);
  return `track ${track.id} (${track.dataset}/${track.backbone}/${track.augmentation}): ${missing.length} of ` +
    `${group.length} cells missing: ${named.join(", ")}${missing.length > named.length ? ", …" : ""}`;
}

/**
 * Collision rate of (F, t) (docs/protocol.md, Metrics): the fraction of augmented samples F(t x)
 * whose nearest clean neighbour in F space (Euclidean, over a clean reference set) has a
 * different label; raw, and after the best rigid alignment of the augmented cloud onto the
 * clean cloud. A high aligned rate means no rigid motion of the latent space separates the
 * augmented classes, which predicts that the anchored MSE (MaWa) will fail.
 */
import type { Backend } from "../tensor/backend.ts";
import { nearestNeighbors } from "./nearest.ts";
import { applyRigid, fitRigid, type Points, type RigidAlignment } from "./procrustes.ts";

export interface CollisionInput {
  /** Feature dimension d. */
  dim: number;
  /** Clean reference features [nc, d] row-major, and their labels [nc]. */
  clean: Points;
  cleanLabels: Int32Array;
  /** Augmented features F(t x) [na, d], and the labels of their source images [na]. */
  augmented: Points;
  augmentedLabels: Int32Array;
  /**
   * The clean features of each augmented sample's own source image, [na, d]: augmented row i is
   * paired with row i here to fit the alignment. Default: `clean` itself (needs na = nc).
   */
  pairedClean?: Points;
  /**
   * Backend for the GEMMs: the nearest-neighbour screen (same answer, much faster) and the
   * alignment's two n·d² products (float32 instead of float64; see procrustes.ts).
   */
  backend?: Backend;
  /**
   * Backend for the nearest-neighbour screen alone (default `backend`): the rates are those of
   * the float64 search, only faster, while the alignment stays in float64 when `backend` is unset.
   */
  screen?: Backend;
}

export interface CollisionResult {
  /** Fraction of augmented samples whose nearest clean neighbour has another label. */
  raw: number;
  /** The same after aligning the augmented cloud onto the clean cloud. */
  aligned: number;
  /** Number of augmented samples. */
  samples: number;
  alignment: RigidAlignment;
}

function checkLabels(what: string, labels: Int32Array, values: number, dim: number): void {
  const rows = values / dim;
  if (!Number.isInteger(rows)) {
    throw new RangeError(`collision: ${values} ${what} values; expected a multiple of d = ${dim}`);
  }
  if (labels.length !== rows) {
    throw new RangeError(`collision: ${labels.length} ${what} labels for ${rows} rows; expected one per row`);
  }
}

/** Fraction of `queries` whose nearest row of `refs` carries a different label. */
export async function collisionRate(
  queries: Points,
  queryLabels: Int32Array,
  refs: Points,
  refLabels: Int32Array,
  dim: number,
  backend?: Backend,
): Promise<number> {
  checkLabels("query", queryLabels, queries.length, dim);
  checkLabels("reference", refLabels, refs.length, dim);
  if (queryLabels.length === 0) throw new RangeError("collision: no query rows");
  const { index } = await nearestNeighbors(queries, refs, dim, { backend });
  let collisions = 0;
  for (let i = 0; i < index.length; i++) if (refLabels[index[i]] !== queryLabels[i]) collisions++;
  return collisions / index.length;
}

/** Raw and aligned collision rates of one (F, t). */
export async function collisionRates(input: CollisionInput): Promise<CollisionResult> {
  const { dim, clean, cleanLabels, augmented, augmentedLabels, backend } = input;
  const screen = input.screen ?? backend;
  const paired = input.pairedClean ?? clean;
  if (paired.length !== augmented.length) {
    throw new RangeError(
      `collision: ${paired.length / dim} paired clean rows for ${augmented.length / dim} augmented rows; ` +
        `expected one per augmented row (pass pairedClean when the reference set is not the augmented samples' sources)`,
    );
  }
  const raw = await collisionRate(augmented, augmentedLabels, clean, cleanLabels, dim, screen);
  const alignment = await fitRigid(augmented, paired, dim, backend);
  const moved = await applyRigid(alignment, augmented, backend);
  const aligned = await collisionRate(moved, augmentedLabels, clean, cleanLabels, dim, screen);
  return { raw, aligned, samples: augmentedLabels.length, alignment };
}

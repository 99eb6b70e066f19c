/**
 * The collision rates of (F, t) (`collision_raw`, `collision_aligned`): properties of the backbone
 * F and the augmentation t, computed once per (dataset, backbone, augmentation, seed) and copied
 * into every method's row (src/run/cell.ts). Tables show them once per group, not per method.
 */
import type { ResultDocument, ResultRow } from "./schema.ts";
import { summarize, type Summary } from "./stats.ts";

export interface FCollision {
  dataset: string;
  backbone: string;
  augmentation: string;
  /** Seeds with a rate (each seed counted once, whichever method's row carried it). */
  seeds: number[];
  raw?: Summary;
  aligned?: Summary;
}

type Group = Pick<ResultRow, "dataset" | "backbone" | "augmentation">;

/** One entry per (dataset, backbone, augmentation) of the rows, in first-seen order. */
export function fCollisions(doc: Pick<ResultDocument, "rows">): FCollision[] {
  const groups = new Map<string, { group: Group; bySeed: Map<number, ResultRow["metrics"]> }>();
  for (const r of doc.rows) {
    const key = JSON.stringify([r.dataset, r.backbone, r.augmentation]);
    if (!groups.has(key)) {
      groups.set(key, {
        group: { dataset: r.dataset, backbone: r.backbone, augmentation: r.augmentation },
        bySeed: new Map(),
      });
    }
    const g = groups.get(key)!;
    if (r.status === "ok" && !g.bySeed.has(r.seed) && typeof r.metrics.collision_raw === "number") {
      g.bySeed.set(r.seed, r.metrics);
    }
  }
  return [...groups.values()].map(({ group, bySeed }) => {
    const seeds = [...bySeed.keys()].sort((a, b) => a - b);
    const of = (name: string) => {
      const values = seeds.map((s) => bySeed.get(s)![name]).filter((v): v is number => typeof v === "number");
      return values.length ? summarize(values) : undefined;
    };
    return { ...group, seeds, raw: of("collision_raw"), aligned: of("collision_aligned") };
  });
}

/** The sentence that says what the rates are, shared by result.md and the leaderboard. */
export const F_COLLISION_TEXT = "Collision rate of (F, t): the fraction of augmented test samples whose " +
  "nearest clean neighbour in F's space has another label, raw and after the best rigid alignment. A " +
  "property of the backbone and the augmentation, the same for every method.";

/** The sentence for the per-method rates in E∘F's space, when rows carry them. */
export const E_COLLISION_TEXT = "E collision: the same rate in the space of E∘F, per method (raw / aligned).";

/**
 * Which cells a shard runs. Two ways to split a matrix into N disjoint shards that cover it:
 *
 * - `cell`: cells sorted by id, every N-th from position I (`shardCells`): balanced to within one
 *   cell, but every feature group lands on every shard, so each node extracts the same features.
 * - `group`: whole (dataset, backbone, augmentation) feature groups, assigned largest estimated
 *   cost first to the least loaded shard (ties to the lowest index), so each group's augmented
 *   features are extracted on one node only. Deterministic: every node computes the same split.
 */
import { estimateCost, groupKey } from "./cost.ts";
import { type Cell, shardCells } from "./expand.ts";

/** The ways of splitting a matrix (`--shard-by`). */
export const SHARD_BY = ["cell", "group"] as const;
export type ShardBy = (typeof SHARD_BY)[number];

export interface ShardSpec {
  index: number;
  count: number;
  by: ShardBy;
}

/** Every shard's cells, in run order (cell: by id; group: matrix order within each group). */
export function splitIntoShards(cells: readonly Cell[], count: number, by: ShardBy): Cell[][] {
  if (by === "cell") return Array.from({ length: count }, (_, i) => shardCells(cells, i, count));
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const key = groupKey(c);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(c);
  }
  const costed = [...groups.entries()].map(([key, members]) => ({
    key,
    members,
    cost: estimateCost(members),
  }))
    .sort((a, b) => b.cost - a.cost || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const assigned: Cell[][][] = Array.from({ length: count }, () => []);
  for (const g of costed) {
    let best = 0;
    for (let i = 1; i < count; i++) if (load[i] < load[best]) best = i;
    load[best] += g.cost;
    assigned[best].push(g.members);
  }
  // Within a shard, groups in matrix order, so a shard runs like a small matrix.
  const position = new Map(cells.map((c, i) => [c.id, i]));
  return assigned.map((gs) => gs.flat().sort((a, b) => position.get(a.id)! - position.get(b.id)!));
}

/** The cells of one shard. */
export function selectShard(cells: readonly Cell[], s: ShardSpec): Cell[] {
  return splitIntoShards(cells, s.count, s.by)[s.index];
}

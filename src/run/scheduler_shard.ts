/**
 * The shard of this process: from `--shard I/N`, or with `--shard auto` from the scheduler that
 * started it:
 *
 *   Slurm job array     SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT
 *   Kubernetes Indexed  JOB_COMPLETION_INDEX of `--shard-count N` (the Job's `completions`;
 *   Job                 Kubernetes does not tell a pod the count)
 *
 * Anything missing or inconsistent is invalid input (an InputError, exit 2) before any cell runs.
 */
import { InputError } from "../errors.ts";
import { parseShard } from "../matrix/expand.ts";
import type { ShardBy, ShardSpec } from "../matrix/shard.ts";

/** Where a shard came from; recorded in the result's provenance. */
export const SHARD_SOURCES = ["flag", "slurm", "kubernetes"] as const;
export type ShardSource = (typeof SHARD_SOURCES)[number];

export interface ResolvedShard extends ShardSpec {
  source: ShardSource;
}

function envInt(env: (name: string) => string | undefined, name: string): number | undefined {
  const v = env(name);
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw new InputError(`--shard auto: ${name}="${v}" is not a non-negative integer`);
  return Number(v);
}

/** Resolves `--shard` (I/N or auto) and `--shard-count`; undefined when no shard was asked for. */
export function resolveShard(
  shard: string | undefined,
  o: { shardCount?: string; by: ShardBy; env?: (name: string) => string | undefined },
): ResolvedShard | undefined {
  const env = o.env ?? ((name: string) => Deno.env.get(name));
  if (shard === undefined) {
    if (o.shardCount !== undefined) throw new InputError("--shard-count is only used with --shard auto");
    return undefined;
  }
  if (shard !== "auto") {
    if (o.shardCount !== undefined) throw new InputError("--shard-count is only used with --shard auto");
    return { ...parseShard(shard), by: o.by, source: "flag" };
  }
  const taskId = envInt(env, "SLURM_ARRAY_TASK_ID");
  if (taskId !== undefined) {
    const count = envInt(env, "SLURM_ARRAY_TASK_COUNT");
    const min = envInt(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    if (count === undefined || count < 1) {
      throw new InputError("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    }
    if (o.shardCount !== undefined && Number(o.shardCount) !== count) {
      throw new InputError(`--shard-count ${o.shardCount} differs from SLURM_ARRAY_TASK_COUNT=${count}`);
    }
    const index = taskId - min;
    if (index < 0 || index >= count) {
      throw new InputError(
        `--shard auto: array task ${taskId} (first ${min}) is outside 0…${count - 1}; ` +
          `submit the array as --array=0-${count - 1} (a step other than 1 is not supported)`,
      );
    }
    return { index, count, by: o.by, source: "slurm" };
  }
  const completion = envInt(env, "JOB_COMPLETION_INDEX");
  if (completion !== undefined) {
    const count = o.shardCount === undefined ? NaN : Number(o.shardCount);
    if (!Number.isInteger(count) || count < 1) {
      throw new InputError(
        "--shard auto under a Kubernetes Indexed Job needs --shard-count N (the Job's completions)",
      );
    }
    if (completion >= count) {
      throw new InputError(
        `--shard auto: JOB_COMPLETION_INDEX=${completion} is not below --shard-count ${count}`,
      );
    }
    return { index: completion, count, by: o.by, source: "kubernetes" };
  }
  throw new InputError(
    "--shard auto: no scheduler shard found (neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set); " +
      "use --shard I/N",
  );
}

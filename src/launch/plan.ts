/**
 * What `invbench slurm` and `invbench k8s` launch: a matrix split into N shards (each run by one
 * array task or pod with `--shard auto`), the shards' cells and estimated costs, and the command
 * lines of a shard and of the merge. Both launchers write the same commands; only the wrapping
 * (sbatch script, Job manifest) differs.
 */
import { posix, relative, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { estimateCost, groupKey } from "../matrix/cost.ts";
import { expandMatrix, loadMatrix } from "../catalogs.ts";
import { loadMethodFiles } from "../methods/user/method_files.ts";
import { sha256Hex } from "../util/hash.ts";
import { type ShardBy, splitIntoShards } from "../matrix/shard.ts";
import { PROJECT_ROOT } from "../run/harness.ts";
import { checkExecutionProvider, DEFAULT_EXECUTION_PROVIDER } from "../backbone/execution_provider.ts";

export interface LaunchOptions {
  matrix: string;
  shards: number;
  by: ShardBy;
  backend: string;
  /** onnxruntime execution provider of the shards' extraction (the run's default, cpu, when absent). */
  executionProvider?: string;
  /** Merge signing: a private key file (as the merge job sees it), or this project's local key. */
  key?: string;
  localKey?: boolean;
}

export interface ShardPlan {
  index: number;
  cells: number;
  groups: number;
  /** Estimated cost (src/matrix/cost.ts units) and its share of the matrix's total. */
  cost: number;
  share: number;
}

export interface LaunchPlan {
  name: string;
  version: string;
  sha256: string;
  /** The matrix file: absolute, and relative to the project root when inside it. */
  matrixPath: string;
  matrixInProject?: string;
  shards: ShardPlan[];
  options: LaunchOptions;
}

/** Expands the matrix and splits it; every shard must hold at least one cell. */
export async function planLaunch(o: LaunchOptions): Promise<LaunchPlan> {
  if (!Number.isInteger(o.shards) || o.shards < 1) {
    throw new InputError(`--shards ${o.shards}: expected a positive integer`);
  }
  if (o.key && o.localKey) throw new InputError("give --key or --local-key, not both");
  if (o.executionProvider) checkExecutionProvider(o.executionProvider);
  const parsed = await loadMatrix(o.matrix);
  // Method files are loaded and checked as a run would (their content is part of the cell ids).
  const cells = expandMatrix(parsed.spec, await loadMethodFiles(parsed));
  const split = splitIntoShards(cells, o.shards, o.by);
  const empty = split.findIndex((s) => !s.length);
  if (empty >= 0) {
    const groups = new Set(cells.map(groupKey)).size;
    throw new InputError(
      `--shards ${o.shards}: shard ${empty} would hold no cell (the matrix has ${cells.length} cells in ${groups} ` +
        `feature group(s)); use --shards ≤ ${o.by === "group" ? groups : cells.length}` +
        (o.by === "group" ? " or --shard-by cell" : ""),
    );
  }
  const total = estimateCost(cells);
  const matrixPath = resolve(o.matrix);
  const rel = relative(PROJECT_ROOT, matrixPath);
  return {
    name: parsed.spec.name,
    version: parsed.spec.version,
    sha256: sha256Hex(parsed.text),
    matrixPath,
    matrixInProject: rel.startsWith("..") ? undefined : rel,
    shards: split.map((s, index) => {
      const cost = estimateCost(s);
      return { index, cells: s.length, groups: new Set(s.map(groupKey)).size, cost, share: cost / total };
    }),
    options: o,
  };
}

/** The invbench command line, run from the project root. */
function invbenchCommand(args: readonly string[]): string[] {
  return ["./node_modules/.bin/deno", "run", "-A", "src/cli/main.ts", ...args];
}

/**
 * A shard's command as one shell line, run from the project root: `run --shard auto` into
 * `DIR/shard-<index>` (the index read from the shell variable `indexVar`), cache `DIR/cache`.
 */
export function shardShellLine(
  plan: LaunchPlan,
  p: { matrix: string; dir: string; indexVar: string; extra?: readonly string[] },
): string {
  const o = plan.options;
  const words = invbenchCommand([
    "run",
    p.matrix,
    "--out",
    "\0OUT",
    "--shard",
    "auto",
    "--shard-by",
    o.by,
    "--cache",
    posix.join(p.dir, "cache"),
    "--backend",
    o.backend,
    ...(o.executionProvider && o.executionProvider !== DEFAULT_EXECUTION_PROVIDER
      ? ["--execution-provider", o.executionProvider]
      : []),
    ...(p.extra ?? []),
  ]);
  return words.map((w) =>
    w === "\0OUT" ? `${shellWord(posix.join(p.dir, "shard-"))}"$${p.indexVar}"` : shellWord(w)
  )
    .join(" ");
}

/** The merge's command (words): `merge DIR/shard-0 … --out DIR/merged`, signed as asked. */
export function mergeCommand(plan: LaunchPlan, dir: string): string[] {
  const o = plan.options;
  const sign = o.key ? ["--key", o.key] : o.localKey ? ["--local-key"] : [];
  const shards = plan.shards.map((s) => posix.join(dir, `shard-${s.index}`));
  return invbenchCommand(["merge", ...shards, "--out", posix.join(dir, "merged"), ...sign]);
}

/** One line per shard: cells, groups, estimated cost and share. */
export function describeShards(plan: LaunchPlan): string[] {
  return plan.shards.map((s) =>
    `shard ${s.index}: ${s.cells} cells in ${s.groups} feature group(s), estimated cost ${
      s.cost.toExponential(2)
    } (${(100 * s.share).toFixed(1)}% of the matrix)`
  );
}

/** A POSIX shell word: the text single-quoted unless it is plainly safe. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'"'"'`)}'`;
}

/**
 * `invbench slurm MATRIX --shards N --out DIR`: writes a Slurm job array (one task per shard) and
 * a merge job, and with `--submit` submits both (`sbatch --parsable`, the merge with
 * `--dependency=afterok:<array>`). Layout of DIR (on a filesystem every node sees):
 *
 *   DIR/slurm/shards.sbatch   the array: task i runs `run --shard auto` into DIR/shard-<i>
 *   DIR/slurm/merge.sbatch    merges DIR/shard-* into DIR/merged (signed when asked)
 *   DIR/logs/                 shard-<i>.out, merge.out
 *   DIR/cache/                the feature cache the shards share
 *
 * A failed task leaves the other shards' cells; submitting again resumes every shard where it
 * stopped (finished shards only re-assemble their result). Scripts are rewritten only when
 * unchanged (generated_files.ts).
 */
import { join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { PROJECT_ROOT } from "../run/harness.ts";
import { writeGenerated } from "./generated_files.ts";
import {
  describeShards,
  type LaunchOptions,
  type LaunchPlan,
  mergeCommand,
  planLaunch,
  shardShellLine,
  shellWord,
} from "./plan.ts";

export interface SlurmOptions extends LaunchOptions {
  out: string;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
}

export interface SlurmScripts {
  plan: LaunchPlan;
  out: string;
  shards: string;
  merge: string;
  /** The scripts' paths. */
  files: { shards: string; merge: string };
}

/** sbatch's time limit forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or no limit. */
const SLURM_TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/i;
/** sbatch's memory sizes: an integer with an optional unit (megabytes without one). */
const SLURM_MEM = /^\d+[KMGT]?$/i;
/** Partition names, comma-separated: nothing a directive line or a shell would split. */
const SLURM_PARTITION = /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/;

/** Refuses directive values sbatch would reject (or split), before any script is written. */
function checkDirectives(o: SlurmOptions): void {
  const bad = (flag: string, value: string, expected: string) =>
    new InputError(`${flag} ${JSON.stringify(value)}: expected ${expected}`);
  if (o.time !== undefined && !SLURM_TIME.test(o.time)) {
    throw bad("--time", o.time, "a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
  }
  if (o.mem !== undefined && !SLURM_MEM.test(o.mem)) {
    throw bad("--mem", o.mem, "a Slurm memory size: an integer with an optional unit K, M, G or T");
  }
  if (o.partition !== undefined && !SLURM_PARTITION.test(o.partition)) {
    throw bad("--partition", o.partition, "Slurm partition names (letters, digits, _ . -), comma-separated");
  }
}

function directives(o: SlurmOptions, lines: string[]): string[] {
  const d = [...lines];
  if (o.partition) d.push(`--partition=${o.partition}`);
  if (o.time) d.push(`--time=${o.time}`);
  if (o.cpusPerTask) d.push(`--cpus-per-task=${o.cpusPerTask}`);
  if (o.mem) d.push(`--mem=${o.mem}`);
  return d.map((x) => `#SBATCH ${x}`);
}

/** The two job scripts (not yet written). */
export async function slurmScripts(o: SlurmOptions): Promise<SlurmScripts> {
  checkDirectives(o);
  const plan = await planLaunch(o);
  const out = resolve(o.out);
  const n = plan.shards.length;
  const head = [
    "#!/bin/bash",
    `# Written by \`invbench slurm\`: matrix ${plan.name} ${plan.version} (sha256 ${plan.sha256}),`,
    `# ${n} shard(s) by ${o.by}. docs/distributed.md explains every line.`,
  ];
  const costs = describeShards(plan).map((l) => `#   ${l}`);
  const shardRun = shardShellLine(plan, {
    matrix: plan.matrixPath,
    dir: out,
    indexVar: "SLURM_ARRAY_TASK_ID",
  });
  const shards = [
    ...head,
    ...directives(o, [
      `--job-name=invbench-${plan.name}`,
      `--array=0-${n - 1}`,
      `--output=${join(out, "logs", "shard-%a.out")}`,
    ]),
    "# Estimated cost per shard (relative units, src/matrix/cost.ts):",
    ...costs,
    "set -euo pipefail",
    `cd ${shellWord(PROJECT_ROOT)}`,
    `exec ${shardRun}`,
    "",
  ].join("\n");
  const merge = [
    ...head,
    ...directives(o, [
      `--job-name=invbench-${plan.name}-merge`,
      `--output=${join(out, "logs", "merge.out")}`,
    ]),
    "set -euo pipefail",
    `cd ${shellWord(PROJECT_ROOT)}`,
    `exec ${mergeCommand(plan, out).map(shellWord).join(" ")}`,
    "",
  ].join("\n");
  return {
    plan,
    out,
    shards,
    merge,
    files: { shards: join(out, "slurm", "shards.sbatch"), merge: join(out, "slurm", "merge.sbatch") },
  };
}

/** Writes the scripts and creates the log directory (Slurm needs it at submission). */
export async function writeSlurmScripts(s: SlurmScripts): Promise<void> {
  await writeGenerated([[s.files.shards, s.shards], [s.files.merge, s.merge]]);
  await Deno.mkdir(join(s.out, "logs"), { recursive: true });
}

async function sbatch(args: string[]): Promise<string> {
  let r: Deno.CommandOutput;
  try {
    r = await new Deno.Command("sbatch", { args: ["--parsable", ...args], stdin: "null" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new InputError("sbatch not found: --submit needs a Slurm client (run it on a login node)");
    }
    throw e;
  }
  const stdout = new TextDecoder().decode(r.stdout).trim(),
    stderr = new TextDecoder().decode(r.stderr).trim();
  if (!r.success) throw new InputError(`sbatch ${args.join(" ")} failed: ${stderr || stdout}`);
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const id = stdout.split(";")[0];
  if (!/^\d+$/.test(id)) throw new InputError(`sbatch ${args.join(" ")} printed no job id: ${stdout}`);
  return id;
}

/** Submits the array, then the merge after every array task succeeded; returns both job ids. */
export async function submitSlurm(s: SlurmScripts): Promise<{ array: string; merge: string }> {
  const array = await sbatch([s.files.shards]);
  const merge = await sbatch([`--dependency=afterok:${array}`, s.files.merge]);
  return { array, merge };
}

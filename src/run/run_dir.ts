/**
 * The run directory's guards (docs/reliability.md):
 *
 * - a directory that holds files but no `run.json` is not a run directory: refused, so a run never
 *   writes its result over someone's files (a signed reference result, a user's notes);
 * - `run.json` records the plan (matrix sha256, cell ids) and the sha256 of every input (dataset
 *   content, backbone ONNX); a resume with another matrix, shard, filter, model or data file is
 *   refused, unless no cell has finished yet (then nothing would be mixed and the plan is replaced);
 * - `OUT/.lock` holds the pid and host of the run using the directory; a second run refuses it, and
 *   a lock left by a killed run (its pid is gone) is taken over;
 * - temp files of atomic writes interrupted by a kill are removed when the lock is taken.
 */
import { hostname } from "node:os";
import { RunDirError } from "../errors.ts";
import { processAlive } from "./process.ts";

/** The sha256 of each input a run reads, by the matrix's ids. */
export interface RunInputs {
  datasets: Record<string, string>;
  backbones: Record<string, string>;
}

/** OUT/run.json. */
export interface RunPlan {
  matrix: { name: string; version: string; sha256: string };
  cells: string[];
  /** Absent in run directories written before inputs were recorded. */
  inputs?: RunInputs;
}

const LOCK = ".lock";
/** What a run writes before run.json exists (an interrupted start leaves only these and temp files). */
const BEFORE_PLAN = new Set(["cells", LOCK]);
/** Temp files of `atomicWrite`: `.<name>.<host tag>.<pid>-<12 hex>.tmp` (the tag ends up in the name group). */
export const TEMP_FILE = /^\.(.+)\.(\d+)-[0-9a-f]{12}\.tmp$/;

async function names(dir: string): Promise<string[] | null> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) found.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.NotADirectory) {
      throw new RunDirError(`--out ${dir}: a file, not a directory; choose a new or empty directory`);
    }
    throw e;
  }
  return found;
}

/** The text of `path`, or null when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function readPlan(out: string): Promise<RunPlan | null> {
  const path = `${out}/run.json`;
  const text = await readTextIfExists(path);
  if (text === null) return null;
  try {
    const plan = JSON.parse(text) as RunPlan;
    if (typeof plan?.matrix?.sha256 !== "string" || !Array.isArray(plan.cells)) throw new Error("not a plan");
    return plan;
  } catch (e) {
    throw new RunDirError(`${path}: not a run plan (${(e as Error).message}); use another --out directory`);
  }
}

/** Cell files that finished in OUT/cells. */
async function finishedCells(out: string): Promise<number> {
  return ((await names(`${out}/cells`)) ?? []).filter((n) => n.endsWith(".json") && !n.startsWith("."))
    .length;
}

function describeChange(previous: RunPlan, plan: RunPlan): string | null {
  if (previous.matrix.sha256 !== plan.matrix.sha256 || previous.cells.join() !== plan.cells.join()) {
    return `a run of ${previous.matrix.name} ${previous.matrix.version} (matrix sha256 ${
      previous.matrix.sha256.slice(0, 12)
    }…, ${previous.cells.length} cells), not this matrix/shard/filter`;
  }
  if (!previous.inputs || !plan.inputs) return null;
  for (const kind of ["datasets", "backbones"] as const) {
    for (const [id, sha] of Object.entries(previous.inputs[kind])) {
      const now = plan.inputs[kind][id];
      if (now !== sha) {
        return `cells computed with ${kind === "datasets" ? "dataset" : "backbone"} ${id} at sha256 ${
          sha.slice(0, 12)
        }…, but its ${kind === "datasets" ? "files" : "ONNX file (and its external data)"} now hash to ${
          now?.slice(0, 12) ?? "nothing"
        }…; restore the file or use another --out directory, so that one result never mixes two inputs`;
      }
    }
  }
  return null;
}

/**
 * Checks `out` for `plan` without writing anything. Returns the plan to resume, or null when
 * the run starts afresh (no directory, an empty one, or one whose plan no finished cell uses).
 */
export async function checkRunDir(out: string, plan: RunPlan): Promise<RunPlan | null> {
  const entries = await names(out);
  if (!entries) return null;
  const previous = await readPlan(out);
  if (!previous) {
    const foreign = entries.filter((n) => !BEFORE_PLAN.has(n) && !TEMP_FILE.test(n)).sort();
    if (foreign.length || (await finishedCells(out))) {
      throw new RunDirError(
        `--out ${out} holds ${foreign.slice(0, 3).join(", ") || "cell files"}${
          foreign.length > 3 ? ", …" : ""
        } but no run.json: not an invbench run directory, and a run ` +
          `never writes over files it did not make; choose a new or empty directory`,
      );
    }
    return null;
  }
  const change = describeChange(previous, plan);
  if (!change) return previous;
  if (!(await finishedCells(out)) && !entries.includes("result.json")) return null;
  throw new RunDirError(`${out} holds ${change}; use another --out directory`);
}

/** The lock on a run directory, held from before run.json is written until the run ends. */
export class RunLock {
  private constructor(readonly path: string) {}

  /** Takes OUT/.lock (OUT must exist), or throws a RunDirError naming the run that holds it. */
  static async acquire(out: string): Promise<RunLock> {
    const path = `${out}/${LOCK}`;
    const me = JSON.stringify({ pid: Deno.pid, host: hostname() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await Deno.writeTextFile(path, me + "\n", { createNew: true });
        await removeStaleTemps(out);
        await removeStaleTemps(`${out}/cells`);
        return new RunLock(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) {
          // Created but not written (a full disk): no half lock is left behind.
          await Deno.remove(path).catch(() => {});
          throw e;
        }
      }
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(await Deno.readTextFile(path));
      } catch { /* a lock being written, or garbage: treated as held */ }
      const stale = holder.host === hostname() && typeof holder.pid === "number" && !processAlive(holder.pid);
      if (!stale) {
        throw new RunDirError(
          `${out} is in use by another run (pid ${holder.pid ?? "?"} on ${
            holder.host ?? "?"
          }; lock ${path}); ` +
            `wait for it, or delete ${path} if that run is gone`,
        );
      }
      // The run that held it was killed: its finished cells are kept, the lock is taken over.
      await Deno.remove(path).catch(() => {});
    }
    throw new RunDirError(`${out}: could not take the lock ${path}; another run took it first`);
  }

  async release(): Promise<void> {
    await Deno.remove(this.path).catch(() => {});
  }

  /** For exit paths that cannot await (a signal handler). */
  releaseSync(): void {
    try {
      Deno.removeSync(this.path);
    } catch { /* already gone */ }
  }
}

/** Removes temp files of interrupted atomic writes in `dir` (only under the run's lock). */
async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of (await names(dir)) ?? []) {
    const m = TEMP_FILE.exec(name);
    if (m && Number(m[2]) !== Deno.pid) await Deno.remove(`${dir}/${name}`).catch(() => {});
  }
}

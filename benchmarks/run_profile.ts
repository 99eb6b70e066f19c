/**
 * Where a whole run's time goes: runs a matrix (default: the default benchmark) in a child process
 * under `--cpu-prof` with a fresh feature cache, then splits the profiled threads' time (the run's
 * thread and each cell worker) into the native work no JS change can shorten — the adapters' and
 * losses' products in onnxruntime's MLAS GEMM, the backbone's onnxruntime sessions — and the JS the
 * CPU backend runs, by function. It prints the wall time, the split, the lower bound the native
 * work alone sets on the wall time (its seconds over the cores), and the seconds per cell type.
 *
 *   deno task bench:profile [MATRIX] [--top N] [--keep DIR]
 *
 * The profiler slows the JS a little (native calls are timed as they run), so the wall time here
 * sits above an unprofiled run's. Self times count a thread's own time: onnxruntime's extra pool
 * threads (the backbone's intra-op threads) are not profiled, which makes the native share a lower
 * bound.
 */
import { join } from "node:path";
import { measuredRun } from "./measured_run.ts";

/** One node of a V8 `.cpuprofile` (the fields read here). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A V8 `.cpuprofile` as `deno run --cpu-prof` writes it. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What a sample's time is counted as. */
export type Share = "idle" | "gemm" | "backbone" | "js";

/** Seconds by share, and the JS seconds by function (`name file:line`). */
export interface ProfileSplit {
  seconds: Record<Share, number>;
  jsFunctions: Map<string, number>;
}

const fileOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);
const frameName = (n: ProfileNode) =>
  `${n.callFrame.functionName || "(anonymous)"} ${fileOf(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

/**
 * The share a node's self time belongs to: a foreign call under the ORT GEMM (`ort_gemm.ts`) is GEMM
 * time; any frame of onnxruntime's Node binding is backbone time (its session runs synchronously on
 * the calling thread); idle is idle; all else is JS (the garbage collector and the runtime included).
 */
function shareOf(node: ProfileNode, parent: Map<number, ProfileNode>): Share {
  const { functionName, url } = node.callFrame;
  if (functionName === "(idle)") return "idle";
  if (/\/onnxruntime-(node|common)\//.test(url)) return "backbone";
  if (functionName === "op_ffi_call_ptr") {
    for (let p = parent.get(node.id); p; p = parent.get(p.id)) {
      if (p.callFrame.url.endsWith("/ort_gemm.ts")) return "gemm";
    }
  }
  return "js";
}

/** Splits the self time of every sample of `profiles` (one per thread) into shares. */
export function splitProfiles(profiles: CpuProfile[]): ProfileSplit {
  const seconds: Record<Share, number> = { idle: 0, gemm: 0, backbone: 0, js: 0 };
  const jsFunctions = new Map<string, number>();
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, ProfileNode>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
    const self = new Map<number, number>();
    // timeDeltas[i] is the time before sample i: it belongs to the sample before it.
    for (let i = 0; i + 1 < profile.samples.length; i++) {
      const id = profile.samples[i];
      self.set(id, (self.get(id) ?? 0) + profile.timeDeltas[i + 1] / 1e6);
    }
    for (const [id, s] of self) {
      const node = byId.get(id);
      if (!node) throw new Error(`profile sample names node ${id}, which the profile does not hold`);
      const share = shareOf(node, parent);
      seconds[share] += s;
      if (share === "js") jsFunctions.set(frameName(node), (jsFunctions.get(frameName(node)) ?? 0) + s);
    }
  }
  return { seconds, jsFunctions };
}

interface Row {
  method: string;
  augmentation: string;
  metrics: { train_seconds?: number; test_seconds?: number };
}

async function main(): Promise<void> {
  const args = [...Deno.args];
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const top = Number(option("--top") ?? 25);
  const keep = option("--keep");
  const matrix = args[0] ?? new URL("default.yaml", import.meta.url).pathname;
  const dir = keep ?? await Deno.makeTempDir({ prefix: "invbench-profile-" });
  const cores = navigator.hardwareConcurrency;
  try {
    const { peak, wall } = await measuredRun([
      "run",
      "-A",
      "--cpu-prof",
      `--cpu-prof-dir=${join(dir, "profiles")}`,
      new URL("../src/cli/main.ts", import.meta.url).pathname,
      "run",
      matrix,
      "--out",
      join(dir, "out"),
      "--cache",
      join(dir, "cache"),
      "--local-key",
    ], "invbench run");

    const profiles: CpuProfile[] = [];
    for await (const e of Deno.readDir(join(dir, "profiles"))) {
      profiles.push(JSON.parse(await Deno.readTextFile(join(dir, "profiles", e.name))));
    }
    const { seconds, jsFunctions } = splitProfiles(profiles);
    const busy = seconds.gemm + seconds.backbone + seconds.js;
    const native = seconds.gemm + seconds.backbone;
    const pct = (s: number) => `${(100 * s / busy).toFixed(1).padStart(5)} %`;
    console.log(`wall ${wall.toFixed(1)} s on ${cores} cores, peak RSS ${(peak / 1e9).toFixed(2)} GB`);
    console.log(`${profiles.length} threads profiled, busy ${busy.toFixed(1)} s:`);
    console.log(`  GEMM (onnxruntime MLAS)    ${seconds.gemm.toFixed(1).padStart(7)} s ${pct(seconds.gemm)}`);
    console.log(
      `  backbone (onnxruntime)     ${seconds.backbone.toFixed(1).padStart(7)} s ${pct(seconds.backbone)}`,
    );
    console.log(`  JS                         ${seconds.js.toFixed(1).padStart(7)} s ${pct(seconds.js)}`);
    console.log(`native work alone on ${cores} cores: ≥ ${(native / cores).toFixed(1)} s wall`);
    console.log(`\ntop ${top} JS functions (self time):`);
    for (const [name, s] of [...jsFunctions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${s.toFixed(1).padStart(7)} s ${pct(s)}  ${name}`);
    }
    const rows =
      (JSON.parse(await Deno.readTextFile(join(dir, "out", "result.json"))) as { rows: Row[] }).rows;
    const byType = new Map<string, { train: number; test: number; cells: number }>();
    for (const r of rows) {
      const t = byType.get(r.method) ?? { train: 0, test: 0, cells: 0 };
      t.train += r.metrics.train_seconds ?? 0;
      t.test += r.metrics.test_seconds ?? 0;
      t.cells++;
      byType.set(r.method, t);
    }
    console.log("\nmethod       | cells | train s | test s");
    console.log("------------ | ----- | ------- | ------");
    for (const [method, t] of byType) {
      console.log(
        `${method.padEnd(12)} | ${String(t.cells).padStart(5)} | ${t.train.toFixed(1).padStart(7)} | ${
          t.test.toFixed(1).padStart(6)
        }`,
      );
    }
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();

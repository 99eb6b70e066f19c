/**
 * Runs the cpu benches and their reference twins (benchmarks/twins.ts) in one sitting and prints
 * `invbench ms | reference ms | ratio` (mean per iteration; ratio < 1: invbench is faster).
 * The twins need Debian's python3-torch and python3-pot; where a Python with them is not found
 * the table says so and shows invbench's column alone. The harness itself never needs Python.
 *
 *   deno task bench:compare [--filter <substring>] [--threads <n>]
 *   (INVBENCH_PYTHON=/path/to/python3 to choose the interpreter; default Debian's /usr/bin/python3,
 *   then python3 on the PATH)
 */
import { fileURLToPath } from "node:url";
import { twins } from "./twins.ts";
import { pythonWith } from "../src/util/python.ts";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BENCH_FILES = ["train_step_bench.ts", "sliced_wasserstein_bench.ts", "features_bench.ts"];
/** The features row: invbench's extract path against a bare onnxruntime session (same bench file). */
const FEATURES = { bench: "invbench extractFeatures (computed)", reference: "bare onnxruntime session" };

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

const filter = flag("--filter");
const threads = Number(flag("--threads") ?? navigator.hardwareConcurrency);

/** Mean ms per iteration of every bench that ran, by name. */
async function runBenches(): Promise<Map<string, number>> {
  const args = ["bench", "-A", "--json", ...(filter ? ["--filter", filter] : [])];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args, ...BENCH_FILES.map((f) => here(f))],
    env: { INVBENCH_BENCH_WEBGPU: Deno.env.get("INVBENCH_BENCH_WEBGPU") ?? "0" },
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`deno bench failed (exit ${out.code})`);
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    benches: { name: string; results: { ok?: { avg: number } }[] }[];
  };
  const means = new Map<string, number>();
  for (const b of doc.benches) {
    const ok = b.results[0]?.ok;
    if (ok) means.set(b.name, ok.avg / 1e6);
  }
  return means;
}

async function runTwin(py: string, script: string, args: string[]): Promise<number> {
  const out = await new Deno.Command(py, { args: [here(`reference/${script}`), ...args], stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${script} ${args.join(" ")} failed (exit ${out.code})`);
  const first = new TextDecoder().decode(out.stdout).split("\n")[0];
  return (JSON.parse(first) as { mean_ms: number }).mean_ms;
}

const ms = (v: number | undefined) => (v === undefined ? "—" : v.toFixed(1)).padStart(12);
const means = await runBenches();
const rows: string[] = [];
const missing = new Set<string>();
for (const t of twins(threads)) {
  const mine = means.get(t.bench);
  if (mine === undefined) continue;
  const py = await pythonWith(t.module);
  if (!py) missing.add(t.pkg);
  const ref = py ? await runTwin(py, t.script, t.args) : undefined;
  rows.push(
    `${t.bench.padEnd(48)} ${ms(mine)} ${ms(ref)} ${ref ? (mine / ref).toFixed(2).padStart(7) : "      —"}`,
  );
}
const [fMine, fRef] = [means.get(FEATURES.bench), means.get(FEATURES.reference)];
if (fMine !== undefined && fRef !== undefined) {
  rows.push(
    `${"features cpu (vs bare onnxruntime)".padEnd(48)} ${ms(fMine)} ${ms(fRef)} ${
      (fMine / fRef).toFixed(2).padStart(7)
    }`,
  );
}
console.log(`${"bench".padEnd(48)} ${"invbench ms".padStart(12)} ${"reference ms".padStart(12)}   ratio`);
for (const r of rows) console.log(r);
console.log(`(mean per iteration; reference: PyTorch for train steps, POT for sliced wasserstein, a bare`);
console.log(
  ` onnxruntime session for features; PyTorch on ${threads} threads; load ${
    Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
  })`,
);
if (missing.size > 0) {
  console.log(
    `No Python with ${[...missing].join(" and ")} found: the reference column is empty where it needs them`,
  );
  console.log(`(install with: apt-get install ${[...missing].join(" ")}).`);
}

/**
 * The benches that have a reference twin (benchmarks/reference/), and how to run the twin: one
 * list, read by the bench files (for their names) and by `compare.ts` (for the table).
 */

/** The training-step shapes benched: the paper's and the default matrix's (with its WaCo P). */
export const STEP_SHAPES = [
  { d: 384, h: 4096, directions: 1000 },
  { d: 128, h: 1024, directions: 250 },
] as const;

/** Bench label and loss name of each adapter loss benched. */
export const STEP_LOSSES = [
  ["MaWa", "mawa"],
  ["WaCo", "waco"],
  ["SimCLR", "simclr"],
  ["HSIC", "hsic"],
] as const;

/** The sliced Wasserstein forward benched against POT: n×d against n×d, P directions. */
export const SW_SHAPE = { n: 1024, d: 384, directions: 1000 } as const;

/** The name of the training-step bench for a backend, shape and loss label. */
export function stepBenchName(backend: string, d: number, h: number, label: string): string {
  return `train step ${backend} d=${d} h=${h} (${label})`;
}

/** The name of the sliced Wasserstein forward bench for a backend. */
export function swBenchName(backend: string): string {
  const { n, d, directions } = SW_SHAPE;
  return `sliced wasserstein ${backend} n=${n} d=${d} P=${directions} (forward)`;
}

/** A bench of the cpu backend and the Python command line of its twin. */
export interface Twin {
  bench: string;
  /** The twin's script under benchmarks/reference/ and its arguments. */
  script: string;
  args: string[];
  /** The Python module the twin needs (its Debian package in `pkg`). */
  module: "torch" | "ot";
  pkg: string;
}

/** Every cpu bench with a twin, in table order. */
export function twins(threads: number): Twin[] {
  const out: Twin[] = [];
  for (const { d, h, directions } of STEP_SHAPES) {
    for (const [label, loss] of STEP_LOSSES) {
      out.push({
        bench: stepBenchName("cpu", d, h, label),
        script: "torch_train_step.py",
        args: [
          "--loss",
          loss,
          "--d",
          `${d}`,
          "--h",
          `${h}`,
          "--directions",
          `${directions}`,
          "--threads",
          `${threads}`,
        ],
        module: "torch",
        pkg: "python3-torch",
      });
    }
  }
  const { n, d, directions } = SW_SHAPE;
  out.push({
    bench: swBenchName("cpu"),
    script: "pot_sliced_wasserstein.py",
    args: ["--n", `${n}`, "--d", `${d}`, "--directions", `${directions}`],
    module: "ot",
    pkg: "python3-pot",
  });
  return out;
}

/**
 * Peak memory of one rotation group (EC and MaWa, view pool 8) at several MNIST train sizes: each
 * size runs `invbench run` in a child process with a fresh feature cache, and the child's peak
 * resident set (VmHWM of /proc/<pid>/status, Linux only) is printed. Memory should depend on the
 * batch and pool sizes, not on the number of images (docs/data.md, "Memory").
 *
 *   deno task bench:memory [TRAIN_SIZES…]      (default 10000 60000)
 */
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
const sizes = Deno.args.length ? Deno.args.map(Number) : [10000, 60000];

const matrix = (train: number) =>
  `schema: invbench.matrix/v1
name: peak-memory
version: 0.0.1
datasets:
  - { id: mnist, source: mnist, train: { limit: ${train}, stratified_seed: 0 }, test: { limit: 1000, stratified_seed: 0 } }
backbones:
  - id: fixture-cnn
    onnx: ${ROOT}fixtures/backbones/mnist.onnx
    output: features
    input: { layout: NCHW, size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] }
augmentations:
  - { id: rotation, kind: rotation, degrees: [-180, 180] }
methods:
  - { id: ec, kind: none }
  - { id: mawa, kind: adapter, loss: mawa }
classifiers:
  - { id: linear, kind: linear, epochs: 2 }
seeds: [0]
training: { hidden: 1024, epochs: 2, batch: 256, views: 3, view_pool: 8 }
evaluation: { aug_draws: 2, structure_points: 500, collision_points: 1000 }
`;

/** Peak RSS (VmHWM) in bytes of `pid`, or 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

console.log("train images | peak RSS (GB) | wall (s)");
for (const n of sizes) {
  const dir = await Deno.makeTempDir({ prefix: "invbench-peak-memory-" });
  try {
    await Deno.writeTextFile(join(dir, "matrix.yaml"), matrix(n));
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}src/cli/main.ts`,
        "run",
        join(dir, "matrix.yaml"),
        "--out",
        join(dir, "out"),
        "--cache",
        join(dir, "cache"),
        "--backend",
        "cpu",
        "--local-key",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let peak = 0;
    const poll = setInterval(() => peak = Math.max(peak, peakRss(child.pid)), 50);
    const { code, stderr } = await child.output();
    clearInterval(poll);
    if (code !== 0) {
      throw new Error(`run with ${n} train images exited ${code}:\n${new TextDecoder().decode(stderr)}`);
    }
    const wall = (performance.now() - started) / 1000;
    console.log(
      `${String(n).padStart(12)} | ${(peak / 1e9).toFixed(2).padStart(13)} | ${wall.toFixed(0).padStart(8)}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

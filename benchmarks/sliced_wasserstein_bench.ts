/**
 * The sliced Wasserstein distance forward alone (p = 2): two 1024×384 clouds along 1000 unit
 * directions, as WaCo computes each of its terms (projection GEMM, row sorts, mean of squared
 * differences), on every available backend. Its twin is POT's `ot.sliced_wasserstein_distance`
 * with the same projections (benchmarks/reference/pot_sliced_wasserstein.py); `deno task
 * bench:compare` runs both in one sitting.
 *
 *   deno bench -A benchmarks/sliced_wasserstein_bench.ts    (INVBENCH_BENCH_WEBGPU=0 skips webgpu)
 */
import { CounterRng, swDistance, tensor, tidy } from "../mod.ts";
import { benchBackends } from "./bench_backends.ts";
import { directionsTensor, randomDirections } from "../src/methods/sliced_wasserstein.ts";
import { SW_SHAPE, swBenchName } from "./twins.ts";

const { n, d, directions } = SW_SHAPE;
const rng = (label: string) => new CounterRng(0, "bench", "sw", label);
for (const backend of await benchBackends()) {
  const x = tensor(rng("x").normals(n * d), [n, d], { backend });
  const y = tensor(rng("y").normals(n * d), [n, d], { backend });
  const dirs = directionsTensor(randomDirections(rng("dirs"), directions, d), directions, d, backend);
  Deno.bench({
    name: swBenchName(backend.name),
    group: "sliced wasserstein",
    baseline: backend.name === "cpu",
    ...(backend.name === "cpu" ? {} : { n: 5, warmup: 1 }),
    async fn() {
      const sw = tidy(() => swDistance(x, y, dirs));
      await sw.toArray();
      sw.dispose();
    },
  });
}

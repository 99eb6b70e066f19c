/**
 * The same cells on the cpu and webgpu backends (llvmpipe here) agree within the comparison
 * tolerance: float rounding differs between the backends, so training trajectories drift a
 * little, but no more than the spread between seeds.
 */
import assert from "node:assert/strict";
import { compareResults, DEFAULT_TOLERANCE } from "../src/results/compare.ts";
import { runMatrix } from "../src/run/runner.ts";
import { fixture, tempDir } from "./fixtures/harness.ts";
import { webgpuAdapter } from "./helpers.ts";

Deno.test({
  name: "runner: the tiny matrix on cpu and on webgpu agrees within tolerance",
  ignore: !(await webgpuAdapter()),
  async fn() {
    await using tmp = await tempDir("xbackend");
    const run = (backend: string) =>
      runMatrix({
        matrix: fixture("tiny.yaml"),
        out: `${tmp.dir}/${backend}`,
        backend,
        cacheDir: `${tmp.dir}/cache`,
        progress: () => {},
      });
    const cpu = await run("cpu"), gpu = await run("webgpu");
    assert.equal((cpu.document.environment.backend as { chosen: string }).chosen, "cpu");
    assert.equal((gpu.document.environment.backend as { chosen: string }).chosen, "webgpu");
    const c = compareResults(cpu.document, gpu.document, DEFAULT_TOLERANCE);
    assert.ok(c.agree, JSON.stringify(c.differences.slice(0, 5)));
    assert.equal(c.compared, cpu.document.rows.length);
    // And close in absolute terms: at most 3 points of clean accuracy apart on 300 test images.
    for (const [i, r] of cpu.document.rows.entries()) {
      const g = gpu.document.rows[i];
      assert.ok(
        Math.abs(r.metrics.acc_clean! - g.metrics.acc_clean!) <= 0.03,
        `${r.method} seed ${r.seed} clean`,
      );
    }
  },
});

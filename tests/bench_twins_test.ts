/**
 * The PyTorch twin of the train-step bench runs on the threads it is given: `torch.set_num_threads`
 * does not reach the OpenBLAS that Debian's PyTorch multiplies with, which then took every core
 * whatever `--threads` said (on 2 cores: 165–185 GFLOP/s for "one thread", against 92).
 */
import assert from "node:assert/strict";
import { pythonWith } from "../src/util/python.ts";

const PYTHON = await pythonWith("torch");
const REQUIRED = Deno.env.get("INVBENCH_REQUIRE_PYTHON") === "1";
const TWIN = new URL("../benchmarks/reference/torch_train_step.py", import.meta.url).pathname;

Deno.test({
  name: "torch twin: --threads 1 holds for PyTorch and for its BLAS",
  ignore: !PYTHON && !REQUIRED,
  async fn() {
    assert.ok(PYTHON, "no Python with torch (Debian: apt-get install python3-torch)");
    const args = [
      TWIN,
      "--loss",
      "mawa",
      "--d",
      "32",
      "--h",
      "64",
      "--threads",
      "1",
      "--iters",
      "1",
      "--warmup",
      "0",
    ];
    const out = await new Deno.Command(PYTHON, {
      args,
      env: { PYTHONDONTWRITEBYTECODE: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(report.threads, 1);
    // null where PyTorch multiplies with a BLAS other than OpenBLAS (then nothing to check here).
    if (report.blas_threads !== null) assert.equal(report.blas_threads, 1);
  },
});

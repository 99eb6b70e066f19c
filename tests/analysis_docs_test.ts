/**
 * docs/analysis.md's pandas snippet, run as written on the committed default result's tables
 * (written by `invbench report`): it must load them and write the augmented-vs-clean figure.
 * Needs a Python with pandas and matplotlib (Debian: python3-pandas, python3-matplotlib; .ci/run
 * installs them and sets INVBENCH_REQUIRE_PYTHON=1, which turns their absence into a failure).
 */
import assert from "node:assert/strict";
import { readResult } from "../src/results/schema.ts";
import { pythonWith } from "../src/util/python.ts";
import { cli, ROOT, tempDir } from "./fixtures/harness.ts";

const PYTHON = await pythonWith("pandas, matplotlib");
const REQUIRED = Deno.env.get("INVBENCH_REQUIRE_PYTHON") === "1";
const RESULT = `${ROOT}/results/default/1.0.0/result.json`;

Deno.test({
  name: "analysis docs: pandas and matplotlib are there when CI requires them",
  ignore: !REQUIRED,
  fn: () =>
    assert.ok(
      PYTHON,
      "no Python with pandas and matplotlib (apt-get install python3-pandas python3-matplotlib)",
    ),
});

Deno.test({
  name: "analysis docs: the pandas snippet loads the report's tables and plots augmented vs clean accuracy",
  ignore: !PYTHON,
  async fn() {
    const doc = await Deno.readTextFile(`${ROOT}/docs/analysis.md`);
    const blocks = [...doc.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.equal(blocks.length, 1, "one python snippet");
    await using tmp = await tempDir("analysis-docs");
    for (const [table, file] of [["cells", "cells.csv"], ["summary", "summary.csv"]]) {
      const r = await cli([
        "report",
        RESULT,
        "--format",
        "csv",
        "--table",
        table,
        "--out",
        `${tmp.dir}/${file}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
    await Deno.writeTextFile(`${tmp.dir}/snippet.py`, blocks[0]);
    const out = await new Deno.Command(PYTHON!, {
      args: ["snippet.py"],
      cwd: tmp.dir,
      env: { PYTHONDONTWRITEBYTECODE: "1", MPLCONFIGDIR: `${tmp.dir}/mpl` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    const png = await Deno.readFile(`${tmp.dir}/aug_vs_clean.png`);
    assert.deepEqual([...png.subarray(1, 4)], [..."PNG"].map((c) => c.charCodeAt(0)));
    // The printed summary names every method of the result with its mean augmented accuracy.
    const mawa = readResult(JSON.parse(await Deno.readTextFile(RESULT))).summary
      .find((s) => s.method === "mawa" && s.augmentation === "rotation")!;
    assert.match(
      text,
      new RegExp(`rotation\\s+mawa\\s+3\\s+[0-9.]+\\s+${mawa.metrics.acc_aug.mean.toFixed(6)}`),
    );
  },
});

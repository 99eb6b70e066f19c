/**
 * The shipped default result (results/default/1.0.0, signed, real MNIST) on the leaderboard in a
 * real browser: the plots must be readable where they were not (HSIC's distances, ~400 times F's,
 * flattened every other method of the structure plot against its axes), measured on the geometry
 * Chromium rendered; the rows and the submission page say what they are (the no-adapter label,
 * ±, F's collision rate once per group, the deviations from the paper's protocol). Leaves
 * screenshots of the plots in tests/artifacts/. INVBENCH_SKIP_BROWSER=1 skips it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium, type Locator } from "playwright-core";
import { buildLeaderboard } from "../../src/leaderboard/build.ts";
import { contentHash } from "../../src/leaderboard/check.ts";
import { F_COLLISION_LABEL } from "../../src/leaderboard/collision_note.ts";
import { fCollisions } from "../../src/results/f_collision.ts";
import { deviationsOf } from "../../src/results/deviations.ts";
import { PALETTE, scatterSvg } from "../../src/leaderboard/svg.ts";
import { ROOT } from "../fixtures/leaderboard/helpers.ts";
import { CHROMIUM_ARGS, chromiumExecutable } from "./chromium.ts";
import { serveStatic } from "./serve.ts";

const RESULT = join(ROOT, "results/default/1.0.0/result.json");
const ARTIFACTS = join(ROOT, "tests/artifacts");
/** A point this close (px) to the left or bottom edge of its plot area is "on an axis". */
const NEAR_AXIS_PX = 4;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The plot area's box and the centres of the circles drawn in it, in page pixels. */
async function geometry(panel: Locator): Promise<{ frame: Box; points: { x: number; y: number }[] }> {
  return await panel.evaluate((g) => {
    const f = g.querySelector("rect.frame")!.getBoundingClientRect();
    const points = Array.from(g.querySelectorAll("circle"), (c) => {
      const b = c.getBoundingClientRect();
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    });
    return { frame: { x: f.x, y: f.y, width: f.width, height: f.height }, points };
  });
}

/** Asserts that the points of a plot area spread over it and do not all hug an axis. */
function assertReadable(name: string, frame: Box, points: { x: number; y: number }[], minShare: number) {
  assert.ok(points.length > 0, `${name}: no points drawn`);
  const bottom = frame.y + frame.height, left = frame.x;
  const offAxes = points.filter((p) => bottom - p.y > NEAR_AXIS_PX && p.x - left > NEAR_AXIS_PX);
  assert.ok(
    offAxes.length >= 0.9 * points.length,
    `${name}: ${
      points.length - offAxes.length
    } of ${points.length} points within ${NEAR_AXIS_PX} px of an axis`,
  );
  const span = (v: number[]) => Math.max(...v) - Math.min(...v);
  const ys = span(points.map((p) => p.y)), xs = span(points.map((p) => p.x));
  assert.ok(
    ys >= minShare * frame.height && xs >= minShare * frame.width,
    `${name}: points span ${xs.toFixed(1)} × ${
      ys.toFixed(1)
    } px of a ${frame.width} × ${frame.height} px plot`,
  );
}

function disjoint(a: Box, b: Box): boolean {
  return a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
}

Deno.test({
  name: "browser: the default result's plots are readable and its page says what its numbers are",
  ignore: Deno.env.get("INVBENCH_SKIP_BROWSER") === "1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const executable = await chromiumExecutable();
    const dir = await Deno.makeTempDir({ prefix: "invbench-plots-" });
    const server = serveStatic(dir);
    const browser = await chromium.launch({ executablePath: executable.path, args: CHROMIUM_ARGS });
    try {
      const built = await buildLeaderboard({
        submissions: [RESULT],
        keys: join(ROOT, "results/trusted_keys.jwks"),
        tracks: join(ROOT, "leaderboard/tracks.yaml"),
        out: dir,
      });
      assert.equal(built.omitted.length, 0, JSON.stringify(built.omitted));
      const hash = contentHash(JSON.parse(await Deno.readTextFile(RESULT)));
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
      });
      await page.goto(`${server.base}submissions/${hash}.html`);
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      const groups = page.locator("section.group");
      assert.equal(await groups.count(), 2);

      await t.step("each structure panel's points spread over its own axes", async () => {
        for (const [g, augmentation] of [[0, "rotation"], [1, "noise"]] as const) {
          const plot = groups.nth(g).locator("svg.plot-structure");
          await plot.screenshot({ path: join(ARTIFACTS, `default_structure_${augmentation}.png`) });
          const panels = plot.locator("g.panel");
          assert.equal(await panels.count(), 5);
          const titles = await plot.locator("text.panel-title").allTextContents();
          assert.deepEqual(titles.map((s) => s.split(" · ")[0]).sort(), [
            "hsic",
            "mawa",
            "no adapter (linear C)",
            "simclr",
            "waco",
          ]);
          for (const title of titles) assert.match(title, / · R² \d\.\d\d · slope \d+\.\d\d$/);
          for (let i = 0; i < 5; i++) {
            const { frame, points } = await geometry(panels.nth(i));
            assertReadable(`${augmentation} structure, ${titles[i]}`, frame, points, 0.3);
          }
        }
      });

      await t.step("the accuracy plots' points spread and their labels do not overlap", async () => {
        const plots = page.locator("svg.plot-accuracy, svg.plot-accuracy-zoom");
        const count = await plots.count();
        assert.ok(count >= 2, `${count} accuracy plots`);
        for (let i = 0; i < count; i++) {
          const plot = plots.nth(i);
          await plot.screenshot({ path: join(ARTIFACTS, `default_accuracy_${i}.png`) });
          const { frame, points } = await geometry(plot);
          assertReadable(`accuracy plot ${i}`, frame, points, 0.2);
          const labels = await plot.locator("text.point-label").evaluateAll((ts) =>
            ts.map((t) => {
              const b = t.getBoundingClientRect();
              return { x: b.x, y: b.y, width: b.width, height: b.height };
            })
          );
          assert.equal(labels.length, points.length, "every point has its label");
          for (let a = 0; a < labels.length; a++) {
            assert.ok(
              labels[a].x >= frame.x - 1 && labels[a].x + labels[a].width <= frame.x + frame.width + 1,
            );
            for (let b = a + 1; b < labels.length; b++) {
              assert.ok(disjoint(labels[a], labels[b]), `labels ${a} and ${b} of plot ${i} overlap`);
            }
          }
        }
      });

      await t.step("the submission page lists the deviations, ± and F's collision rate", async () => {
        // The block is the matrix's deviations (tests/deviations_test.ts checks which), row for row.
        const doc = JSON.parse(await Deno.readTextFile(RESULT));
        const shown = await page.locator("#deviations table.deviations tbody tr").evaluateAll((trs) =>
          trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent))
        );
        assert.deepEqual(
          shown,
          deviationsOf(doc.matrix.spec).map((d) => [d.what, d.value, d.paper, d.where.join(", ")]),
        );
        for (const s of ["adapter epochs", "adapter hidden width", "view regime", "WaCo directions P"]) {
          assert.ok(shown.some((r) => r[0] === s), `${s} is listed`);
        }
        assert.match(
          (await page.locator("p.plus-minus").textContent())!,
          /95 % confidence interval of the mean over n seeds \(Student t, n − 1 degrees of freedom; n = 3/,
        );
        // F's rates, once per group: the seeds' mean of the rows' collision_raw / collision_aligned.
        assert.deepEqual(
          await page.locator("section.group p.f-collision").allTextContents(),
          fCollisions(doc).map((g) =>
            `${F_COLLISION_LABEL}: raw ${(100 * g.raw!.mean).toFixed(1)} % / aligned ${
              (100 * g.aligned!.mean).toFixed(1)
            } %`
          ),
        );
        const heads = await groups.first().locator("table.board thead th").allTextContents();
        assert.ok(!heads.some((h) => /collision/i.test(h)), `no per-method collision column: ${heads}`);
        await page.screenshot({ path: join(ARTIFACTS, "default_submission.png"), fullPage: true });
      });

      await t.step("ten methods within a point of each other keep disjoint labels", async () => {
        // The shape of a result with the baselines: clean accuracies within 0.2 points, augmented within 3.
        const names = [
          "no adapter (linear C)",
          "aug-probe",
          "tta",
          "steer",
          "canon",
          "mawa",
          "waco",
          "simclr",
          "vicreg",
          "hsic",
        ];
        const svg = scatterSvg({
          title: "crowded",
          className: "plot",
          xLabel: "clean",
          yLabel: "augmented",
          x: [98, 99.4],
          y: [80, 90],
          series: names.map((name, i) => ({
            name,
            color: PALETTE[i],
            points: [{ x: 98.5 + 0.05 * (i % 5), y: 83 + 0.3 * i, label: name }],
          })),
        }).value;
        const crowded = await browser.newPage({ viewport: { width: 700, height: 460 } });
        await crowded.setContent(`<!doctype html><body>${svg}</body>`);
        await crowded.addStyleTag({ path: join(ROOT, "src/leaderboard/assets/style.css") });
        const labels = await crowded.locator("text.point-label").evaluateAll((ts) =>
          ts.map((t) => {
            const b = t.getBoundingClientRect();
            return { x: b.x, y: b.y, width: b.width, height: b.height };
          })
        );
        assert.equal(labels.length, names.length);
        for (let a = 0; a < labels.length; a++) {
          for (let b = a + 1; b < labels.length; b++) {
            assert.ok(disjoint(labels[a], labels[b]), `labels ${names[a]} and ${names[b]} overlap`);
          }
        }
        await crowded.locator("svg").screenshot({ path: join(ARTIFACTS, "crowded_accuracy.png") });
      });

      assert.deepEqual(problems, [], "no page errors or console errors");
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

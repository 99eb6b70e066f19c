/**
 * The leaderboard in a real browser: builds the site from the fixture submissions, serves it on
 * 127.0.0.1 and drives Chromium through playwright-core: Debian's when installed, else the one the
 * `@sparticuz/chromium` dev dependency ships (chromium.ts). INVBENCH_SKIP_BROWSER=1 skips it.
 * Leaves a screenshot of the main page in tests/artifacts/leaderboard.png.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { buildLeaderboard } from "../../src/leaderboard/build.ts";
import { contentHash } from "../../src/leaderboard/check.ts";
import { readFixture, ROOT, SUBMISSIONS, TRACKS, TRUSTED_KEYS } from "../fixtures/leaderboard/helpers.ts";
import { XSS_METHOD } from "../fixtures/leaderboard/make_fixtures.ts";
import { CHROMIUM_ARGS, chromiumExecutable, packagedChromium } from "./chromium.ts";
import { serveStatic } from "./serve.ts";

const SCREENSHOT = join(ROOT, "tests/artifacts/leaderboard.png");
/** The fixtures' method `none` (kind none, linear classifier), as the site names it. */
const NONE = "no adapter (linear C)";

/** Rank, method and short submission hash of each row of a track's table, in display order. */
function rowsOf(page: Page, track: string): Promise<[string, string, string][]> {
  return page.$$eval(
    `section[data-track="${track}"] table.board tbody tr`,
    (trs) =>
      trs.map((tr) =>
        [
          tr.querySelector("td.rank")!.textContent!.trim(),
          tr.querySelector(".method-name")!.textContent!,
          tr.querySelector("td.submission code")!.textContent!,
        ] as [string, string, string]
      ),
  );
}

/** The data-value of column `index` (0-based) in each row, as numbers. */
function columnValues(page: Page, track: string, index: number): Promise<number[]> {
  return page.$$eval(
    `section[data-track="${track}"] table.board tbody tr`,
    (trs, i) => trs.map((tr) => Number((tr.children[i] as HTMLElement).dataset.value)),
    index,
  );
}

Deno.test({
  name: "browser: the leaderboard renders, sorts, plots and escapes in chromium",
  ignore: Deno.env.get("INVBENCH_SKIP_BROWSER") === "1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const executable = await chromiumExecutable();
    const dir = await Deno.makeTempDir({ prefix: "invbench-browser-" });
    const server = serveStatic(dir);
    const browser = await chromium.launch({ executablePath: executable.path, args: CHROMIUM_ARGS });
    try {
      await buildLeaderboard({ submissions: [SUBMISSIONS], keys: TRUSTED_KEYS, tracks: TRACKS, out: dir });
      const short = async (f: string) => contentHash(await readFixture(f)).slice(0, 12);
      const [good, worse, xss] = [
        await short("good.json"),
        await short("worse.json"),
        await short("xss.json"),
      ];

      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.setDefaultTimeout(15_000);
      const dialogs: string[] = [], problems: string[] = [], outside: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on("request", (r) => {
        if (!r.url().startsWith(server.base)) outside.push(r.url());
      });
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
      });
      await page.goto(server.base + "index.html");

      await t.step("the table shows the fixtures' ranks", async () => {
        assert.deepEqual(await rowsOf(page, "fixture-rotation"), [
          ["1", "mawa", good],
          ["2", "waco", good],
          ["3", "mawa", xss],
          ["4", "simclr", good],
          ["5", "waco", xss],
          ["6", "mawa", worse],
          ["7", "simclr", xss],
          ["8", "waco", worse],
          ["9", "hsic", good],
          ["10", "simclr", worse],
          ["11", "hsic", xss],
          ["12", XSS_METHOD, xss],
          ["13", "hsic", worse],
          ["14", NONE, good],
          ["15", NONE, xss],
          ["16", NONE, worse],
        ]);
        // The label replaces the id, which stays visible beside it.
        assert.deepEqual(
          await page.locator(
            'section[data-track="fixture-rotation"] td.method[data-method="none"] code.method-id',
          )
            .allTextContents(),
          ["none", "none", "none"],
        );
        assert.equal(await page.locator('section[data-track="fixture-rotation"] tr.alters-f').count(), 8);
        assert.equal(
          await page.locator('section[data-track="fixture-noise"] .empty').textContent(),
          "No submissions yet.",
        );
        const omitted = await page.locator("#omitted").textContent();
        assert.match(omitted!, /tampered\.json: bad-signature/);
        assert.match(omitted!, /untrusted\.json: untrusted-key/);
      });

      await t.step("clicking a header re-sorts the table", async () => {
        const table = 'section[data-track="fixture-rotation"] table.board';
        const clean = page.locator(`${table} thead th`, { hasText: "Clean acc. %" });
        const cleanIndex = await page.$$eval(
          `${table} thead th`,
          (ths) => ths.findIndex((th) => th.textContent!.startsWith("Clean acc.")),
        );
        await clean.locator("button").click();
        assert.equal(await clean.getAttribute("aria-sort"), "descending");
        const down = await columnValues(page, "fixture-rotation", cleanIndex);
        assert.deepEqual(down, [...down].sort((a, b) => b - a));
        assert.deepEqual((await rowsOf(page, "fixture-rotation"))[0], ["14", NONE, good]);
        await clean.locator("button").click();
        assert.equal(await clean.getAttribute("aria-sort"), "ascending");
        const up = await columnValues(page, "fixture-rotation", cleanIndex);
        assert.deepEqual(up, [...up].sort((a, b) => a - b));
        assert.deepEqual((await rowsOf(page, "fixture-rotation"))[0], ["13", "hsic", worse]);
        await page.locator(`${table} thead th`, { hasText: "Rank" }).locator("button").click();
        assert.deepEqual(
          (await rowsOf(page, "fixture-rotation")).map((r) => r[0]),
          Array.from({ length: 16 }, (_, i) => String(i + 1)),
        );
      });

      await t.step("the <script> method name renders as text and runs nothing", async () => {
        const cell = page.getByText(XSS_METHOD, { exact: true });
        assert.equal(await cell.count(), 1);
        assert.ok(await cell.isVisible());
        // The site's own two scripts (sort.js, filter.js) and nothing else.
        assert.deepEqual(
          await page.evaluate(() => Array.from(document.scripts, (s) => s.src.split("/").pop())),
          ["sort.js", "filter.js"],
        );
        assert.equal(
          await page.evaluate(() => document.querySelectorAll("img, iframe, object, embed").length),
          0,
        );
        await page.goto(server.base + `submissions/${contentHash(await readFixture("xss.json"))}.html`);
        assert.ok(await page.getByText(XSS_METHOD, { exact: true }).first().isVisible());
        assert.ok(await page.getByText("<img src=x onerror=alert(2)>", { exact: true }).isVisible());
        assert.equal(
          await page.evaluate(() => document.querySelectorAll("img, iframe, object, embed").length),
          0,
        );
        await page.waitForTimeout(200);
        assert.deepEqual(dialogs, [], "no dialog may open");
      });

      await t.step("a detail page shows its two SVG plots", async () => {
        await page.goto(server.base + "index.html");
        await page.locator('section[data-track="fixture-rotation"] tbody tr').first().locator(
          "td.submission a",
        ).click();
        await page.waitForURL(`**/submissions/${contentHash(await readFixture("good.json"))}.html`);
        const accuracy = page.locator("svg.plot-accuracy"), structure = page.locator("svg.plot-structure");
        assert.equal(await accuracy.count(), 1);
        assert.equal(await structure.count(), 1);
        for (const plot of [accuracy, structure]) {
          assert.ok(await plot.isVisible());
          const box = (await plot.boundingBox())!;
          assert.ok(box.width > 300 && box.height > 200, `plot box ${JSON.stringify(box)}`);
        }
        assert.equal(await accuracy.locator("circle").count(), 5);
        assert.deepEqual(
          (await accuracy.locator("text.point-label").allTextContents()).sort(),
          ["hsic", "mawa", NONE, "simclr", "waco"],
        );
        assert.ok((await structure.locator("circle").count()) >= 5 * 20);
        // One panel per method, each with its own y = x line.
        assert.equal(await structure.locator("g.panel").count(), 5);
        assert.equal(await structure.locator("g.panel line.diagonal").count(), 5);
        assert.match(
          (await page.locator(".reproduce-command").textContent())!,
          /invbench reproduce [0-9a-f]{64}\.json --keys trusted_keys\.jwks --cells 3/,
        );
        assert.match((await page.locator(".verification-status").textContent())!, /verified/);
      });

      await t.step("screenshot of the main page", async () => {
        await page.goto(server.base + "index.html");
        await Deno.mkdir(join(ROOT, "tests/artifacts"), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        assert.ok((await Deno.stat(SCREENSHOT)).size > 10_000);
      });

      assert.deepEqual(outside, [], "the site loads nothing from elsewhere");
      assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "browser: the packaged Chromium (used where Debian's is not installed) runs a page's scripts",
  ignore: Deno.env.get("INVBENCH_SKIP_BROWSER") === "1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const browser = await chromium.launch({ executablePath: await packagedChromium(), args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.setContent(
        "<p id=out></p><script>document.getElementById('out').textContent = 6 * 7</script>",
      );
      assert.equal(await page.textContent("#out"), "42");
    } finally {
      await browser.close();
    }
  },
});

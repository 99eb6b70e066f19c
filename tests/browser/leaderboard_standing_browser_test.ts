/**
 * Submission standings in a real browser: the open-submission scenario (an honest self-reported
 * result reproduced by a maintainer, an improved re-signed copy disputed; made for real by
 * tests/fixtures/open_submission.ts) built into a site, served on 127.0.0.1 and driven in
 * Debian's chromium: distinct badges per state, the "only reproduced" filter, and the method
 * file's source on the detail page (tests/browser/chromium.ts finds the browser).
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { openScenario } from "../fixtures/open_submission.ts";
import { CHROMIUM_ARGS, chromiumExecutable } from "./chromium.ts";
import { serveStatic } from "./serve.ts";

Deno.test({
  name: "browser: reproduced and disputed submissions are shown distinctly and can be filtered",
  ignore: Deno.env.get("INVBENCH_SKIP_BROWSER") === "1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const executable = await chromiumExecutable();
    const dir = await Deno.makeTempDir({ prefix: "invbench-standing-browser-" });
    const s = await openScenario(dir);
    const server = serveStatic(s.site);
    const browser = await chromium.launch({ executablePath: executable.path, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
      });
      await page.goto(server.base + "index.html");
      const rows = page.locator('section[data-track="open-rotation"] table.board tbody tr');
      /** [short hash, standing badge text, badge background colour] of each visible row. */
      const visible = () =>
        rows.evaluateAll((trs) =>
          trs.filter((tr) => !(tr as HTMLElement).hidden && (tr as HTMLElement).offsetParent !== null).map(
            (tr) => {
              const badge = tr.querySelector("td.submission .badge.standing") as HTMLElement;
              return [
                tr.querySelector("td.submission code")!.textContent!,
                badge.textContent!,
                getComputedStyle(badge).backgroundColor,
              ];
            },
          )
        );

      await t.step("each row carries its submission's standing, each state in its own colour", async () => {
        const all = await visible();
        assert.equal(all.length, 4, JSON.stringify(all));
        const byHash = new Map(all.map(([h, state, colour]) => [h, { state, colour }]));
        assert.equal(byHash.get(s.honest.slice(0, 12))?.state, "reproduced");
        assert.equal(byHash.get(s.improved.slice(0, 12))?.state, "disputed");
        assert.notEqual(
          byHash.get(s.honest.slice(0, 12))?.colour,
          byHash.get(s.improved.slice(0, 12))?.colour,
        );
        const legend = await page.locator("p.standings .badge.standing").allTextContents();
        assert.deepEqual(legend, ["reproduced", "disputed", "trusted", "self-reported"]);
      });

      await t.step("the filter shows only reproduced entries, and all again when cleared", async () => {
        await page.locator("#only-reproduced").check();
        const only = await visible();
        assert.equal(only.length, 2);
        assert.ok(only.every(([h, state]) => h === s.honest.slice(0, 12) && state === "reproduced"));
        await page.locator("#only-reproduced").uncheck();
        assert.equal((await visible()).length, 4);
      });

      await t.step("the detail page shows the attestation and the method file's source", async () => {
        await page.goto(server.base + `submissions/${s.improved}.html`);
        assert.equal(
          await page.locator(".standing-status .badge.standing").first().textContent(),
          "disputed",
        );
        assert.match(
          (await page.locator("li.attestation").textContent())!,
          /1 of 2 cells matched, attested by/,
        );
        const source = await page.locator("pre.method-source").textContent();
        assert.match(source!, /loss\(batch, _params, ops\) \{/);
        assert.ok(await page.locator("pre.method-source").isVisible());
      });
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

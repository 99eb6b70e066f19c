import assert from "node:assert/strict";
import { join } from "node:path";
import { buildLeaderboard } from "../src/leaderboard/build.ts";
import { contentHash } from "../src/leaderboard/check.ts";
import { escapeHtml, joinMarkup, markup } from "../src/leaderboard/markup.ts";
import { markdownText } from "../src/leaderboard/markdown.ts";
import { shellQuote } from "../src/leaderboard/format.ts";
import { readFixture, SUBMISSIONS, TRACKS, TRUSTED_KEYS } from "./fixtures/leaderboard/helpers.ts";
import { XSS_METHOD } from "./fixtures/leaderboard/make_fixtures.ts";

Deno.test("html: escapeHtml and the markup template escape every interpolation", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  const name = "<script>alert(1)</script>";
  assert.equal(
    markup`<td title="${name}">${name}</td>`.value,
    `<td title="${escapeHtml(name)}">${escapeHtml(name)}</td>`,
  );
  // Fragments made by markup are not escaped twice; arrays concatenate; null, undefined and false vanish.
  const inner = markup`<b>${"&"}</b>`;
  assert.equal(
    markup`<p>${inner}${[inner, "<"]}${null}${undefined}${false}${0}</p>`.value,
    "<p><b>&amp;</b><b>&amp;</b>&lt;0</p>",
  );
  assert.equal(joinMarkup(["<a>", markup`<i>x</i>`], " & ").value, "&lt;a&gt; &amp; <i>x</i>");
  // Objects that merely look like fragments are escaped.
  assert.equal(markup`${{ value: "<x>", toString: () => "<x>" }}`.value, "&lt;x&gt;");
});

Deno.test("html: Markdown cells and shell words are escaped", () => {
  assert.equal(
    markdownText("<script>a|b</script>\n[x](javascript:y) *z*"),
    "&lt;script&gt;a\\|b&lt;/script&gt; \\[x\\](javascript:y) \\*z\\*",
  );
  assert.equal(shellQuote("abc.json"), "abc.json");
  assert.equal(shellQuote("$(rm -rf ~)"), "'$(rm -rf ~)'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

/** Every string leaf of a JSON value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

const ALLOWED_TAGS = new Set([
  "!doctype",
  "html",
  "head",
  "meta",
  "title",
  "link",
  "script",
  "body",
  "header",
  "main",
  "section",
  "footer",
  "h1",
  "h2",
  "p",
  "a",
  "code",
  "pre",
  "strong",
  "span",
  "ul",
  "li",
  "dl",
  "dt",
  "dd",
  "div",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "button",
  "label",
  "input",
  "h3",
  "svg",
  "g",
  "line",
  "rect",
  "circle",
  "text",
]);

async function site() {
  const dir = await Deno.makeTempDir({ prefix: "invbench-html-" });
  await buildLeaderboard({ submissions: [SUBMISSIONS], keys: TRUSTED_KEYS, tracks: TRACKS, out: dir });
  const pages = new Map<string, string>();
  pages.set("index.html", await Deno.readTextFile(join(dir, "index.html")));
  for await (const e of Deno.readDir(join(dir, "submissions"))) {
    if (e.name.endsWith(".html")) {
      pages.set(`submissions/${e.name}`, await Deno.readTextFile(join(dir, "submissions", e.name)));
    }
  }
  return { dir, pages, markdown: await Deno.readTextFile(join(dir, "leaderboard.md")) };
}

Deno.test("html: no field of any submission reaches a page as markup", async () => {
  const { dir, pages, markdown } = await site();
  try {
    const xss = await readFixture("xss.json");
    const hostile = [...new Set(strings(xss))].filter((s) => /[<>&"']/.test(s));
    assert.ok(hostile.length >= 8, `the xss fixture carries markup in many fields (${hostile.length})`);
    for (const [name, text] of pages) {
      for (const s of hostile) {
        assert.ok(!text.includes(s), `${name} contains the raw string ${JSON.stringify(s)}`);
      }
      // Only the page's own tags, no event-handler attributes, one script: the site's own.
      const tags = new Set([...text.matchAll(/<([!a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1].toLowerCase()));
      for (const t of tags) assert.ok(ALLOWED_TAGS.has(t), `${name}: unexpected tag <${t}>`);
      for (const [tag] of text.matchAll(/<[a-zA-Z][^>]*>/g)) {
        assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `${name}: an event-handler attribute in ${tag}`);
        assert.doesNotMatch(tag, /javascript:/i, `${name}: a javascript: URL in ${tag}`);
      }
      const root = name === "index.html" ? "" : "../";
      assert.deepEqual([...text.matchAll(/<script[^>]*>/g)].map((m) => m[0]), [
        `<script src="${root}sort.js" defer>`,
        `<script src="${root}filter.js" defer>`,
      ]);
      // Nothing is loaded from elsewhere.
      assert.doesNotMatch(text, /(src|href)="(https?:)?\/\//i, `${name}: an outside resource`);
      assert.match(text, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
    }
    for (const s of hostile) assert.ok(!markdown.includes(s), `leaderboard.md contains ${JSON.stringify(s)}`);

    const index = pages.get("index.html")!;
    assert.ok(index.includes(`<span class="method-name">${escapeHtml(XSS_METHOD)}</span>`));
    const detail = pages.get(`submissions/${contentHash(xss)}.html`)!;
    for (
      const field of [
        XSS_METHOD,
        `<b>bold</b> & "double" 'single' <img src=x onerror=alert(7)>`,
        "<img src=x onerror=alert(2)>",
        "</td><script>alert(3)</script>",
        `"><script>alert(5)</script>`,
        `x"><svg onload=alert(6)>`,
        "<i>key</i>",
        "<iframe src=javascript:alert(8)>",
        "<u>flag</u>",
      ]
    ) assert.ok(detail.includes(escapeHtml(field)), `the detail page shows ${field} as text`);
    // The reproduce command holds only our own words: no git checkout of a commit that is not hex.
    const command = detail.match(/<code class="reproduce-command">([^<]*)<\/code>/)![1];
    assert.doesNotMatch(command, /checkout|touch|pwned/);
    assert.match(
      command,
      new RegExp(`reproduce ${contentHash(xss)}\\.json --keys trusted_keys\\.jwks --cells 3`),
    );
    assert.ok(markdown.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("html: a detail page shows verification, signer, reproduce command and both plots", async () => {
  const { dir, pages } = await site();
  try {
    const good = await readFixture("good.json");
    const page = pages.get(`submissions/${contentHash(good)}.html`)!;
    const kid = JSON.parse(
      atob((good.signature as { protected: string }).protected.replace(/-/g, "+").replace(/_/g, "/")),
    )
      .kid;
    assert.ok(page.includes(`<code class="signer-kid">${kid}</code>`));
    assert.match(page, /<span class="badge ok">verified<\/span>/);
    assert.match(page, /git checkout 0123456789abcdef0123456789abcdef01234567\n/);
    assert.equal([...page.matchAll(/<svg [^>]*class="plot plot-accuracy"/g)].length, 1);
    assert.equal([...page.matchAll(/<svg [^>]*class="plot plot-structure"/g)].length, 1);
    assert.match(page, /<line class="diagonal"/);
    assert.match(page, /<td>cpu\.model<\/td><td>Fixture CPU A<\/td>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

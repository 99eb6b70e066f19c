/** Bidi overrides and invisible characters from submissions are shown, never obeyed (issue 15). */
import assert from "node:assert/strict";
import { escapeHtml } from "../src/leaderboard/markup.ts";
import { markdownText } from "../src/leaderboard/markdown.ts";
import { renderMarkdown } from "../src/results/table.ts";
import { resultDoc, row } from "./fixtures/harness.ts";

// "mawa" followed by a right-to-left override and a zero-width space: displays reversed text.
const SPOOF = "mawa\u202Egnp.exe\u200B";

Deno.test("visible text: HTML, leaderboard Markdown and result Markdown show bidi and zero-width characters", () => {
  assert.equal(escapeHtml(SPOOF), "mawa&lt;U+202E&gt;gnp.exe&lt;U+200B&gt;");
  assert.equal(markdownText(SPOOF), "mawa&lt;U+202E&gt;gnp.exe&lt;U+200B&gt;");
  const md = renderMarkdown(resultDoc([row({ method: SPOOF, seed: 0 })]));
  assert.ok(md.includes("mawa<U+202E>gnp.exe<U+200B>"), md);
  for (const text of [escapeHtml(SPOOF), markdownText(SPOOF), md]) {
    assert.doesNotMatch(text, /[\u202A-\u202E\u200B-\u200F\u2066-\u2069\uFEFF]/);
  }
});

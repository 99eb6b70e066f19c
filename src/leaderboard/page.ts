/**
 * The shell of every leaderboard page: a strict Content-Security-Policy (only the site's own
 * style sheet, script and icon; no inline code, no outside resources), the style sheet, and the
 * sorting script. `root` is the relative path from the page to the site root.
 */
import { type Markup, markup } from "./markup.ts";

export const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'";

export function page(o: { title: string; root: string; body: Markup }): string {
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${o.title}</title>
<link rel="icon" href="${o.root}favicon.svg">
<link rel="stylesheet" href="${o.root}style.css">
<script src="${o.root}sort.js" defer></script>
<script src="${o.root}filter.js" defer></script>
</head>
<body>
${o.body}
<footer>Built by <code>invbench leaderboard build</code>. Every submission on this site was re-verified
(Ed25519 signature, by a trusted key or self-reported by its author's key; result schema, summary against
rows, track) when the site was built;
see <a href="${o.root}build.log">build.log</a> for what was left out and why.</footer>
</body>
</html>
`.value;
}

/**
 * HTML output without injection: `markup` is a tagged template whose interpolations are escaped
 * unless they are themselves `Markup` (built by `markup`), so every string that comes from a
 * submission (method names, environment fields, signer notes, file names) reaches the page as
 * text. Nothing else in the leaderboard writes markup. (The tag is not called `html` because
 * `deno fmt` reformats templates tagged `html`, which would change the output's whitespace.)
 */

import { showInvisible } from "../results/visible_text.ts";

/** A fragment of markup that is already safe (only `markup` and `joinMarkup` make one). */
export class Markup {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for an HTML text node or a quoted attribute value (invisible characters shown). */
export function escapeHtml(text: unknown): string {
  return showInvisible(String(text)).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

function render(value: unknown): string {
  if (value instanceof Markup) return value.value;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(value);
}

/** Markup from a template: interpolated values are escaped (arrays are concatenated, null dropped). */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Markup(out);
}

/** Joins fragments (and escaped strings) with a separator. */
export function joinMarkup(parts: readonly unknown[], separator = ""): Markup {
  return new Markup(parts.map(render).join(escapeHtml(separator)));
}

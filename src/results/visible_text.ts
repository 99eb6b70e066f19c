/**
 * Text from a submission shown on a page or in a table: bidirectional overrides and invisible
 * characters (zero-width spaces and joiners, BOM, soft hyphen) would let a method name display
 * as something it is not, so each is shown as a visible `<U+XXXX>` instead.
 */
const INVISIBLE = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
}

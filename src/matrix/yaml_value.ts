/**
 * Reading YAML input files (matrices, tracks) safely: the file must be UTF-8 (so the sha256 of its
 * text is the sha256 of its bytes), and an alias bomb (aliases that expand exponentially) is
 * reported at its first alias instead of exhausting memory or escaping as a ReferenceError.
 */
import { type Document, isAlias, visit } from "yaml";

/** Aliases one document may expand; the yaml package's own default, stated here. */
const MAX_ALIAS_COUNT = 100;

/** The file's text, or `{ problem }` when it is not UTF-8 (the offset of the first bad byte). */
export function decodeUtf8(bytes: Uint8Array): string | { problem: string } {
  try {
    // ignoreBOM keeps a byte-order mark in the text, so the text's UTF-8 bytes are the file's.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Byte by byte, streaming: the first byte the decoder refuses (matrix files are small).
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let good = 0;
    try {
      for (; good < bytes.length; good++) decoder.decode(bytes.subarray(good, good + 1), { stream: true });
    } catch { /* `good` is the offset */ }
    return { problem: `not UTF-8 text (first invalid byte near offset ${good}); save the file as UTF-8` };
  }
}

/** The document as plain values, or `{ offset, problem }` for an alias bomb. */
export function yamlValue(doc: Document): { value: unknown } | { offset: number; problem: string } {
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    let offset = 0;
    visit(doc, {
      Alias(_, node) {
        if (isAlias(node) && node.range) offset = node.range[0];
        return visit.BREAK;
      },
    });
    return {
      offset,
      problem: `aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias expansions, the ` +
        `pattern of a "billion laughs" attack); write the values out instead of aliasing them`,
    };
  }
}

/**
 * The name a reader sees for a (method, classifier) row, in result.md and on the leaderboard. A
 * method without an adapter (kind `none`) measures the classifier on F itself, so its row is
 * named for that classifier ("no adapter (linear C)"), not for the method id the matrix gave it
 * (which the shipped matrices call `ec`, although the protocol's EC is an MLP). The spec is read
 * generically (a result's `matrix.spec` is whatever its harness wrote), so any matrix renders.
 */

/** What a row of kind `none` is called, by the kind of its classifier (src/methods/classifier.ts). */
const NO_ADAPTER: Readonly<Record<string, string>> = {
  linear: "no adapter (linear C)",
  mlp: "no adapter (MLP C)",
  ec: "EC: no adapter (deep MLP C)",
};

function entryOf(list: unknown, id: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const x of list) {
    if (x === id) return { id, kind: id }; // a classifier given as a bare name is its own kind
    if (x && typeof x === "object" && (x as { id?: unknown }).id === id) return x as Record<string, unknown>;
  }
  return undefined;
}

function kindIn(list: unknown, id: string): string | undefined {
  const kind = entryOf(list, id)?.kind;
  return typeof kind === "string" ? kind : undefined;
}

/** The method's kind (none, adapter, tta, ...) in a matrix spec, when the spec names it. */
export function methodKind(spec: unknown, method: string): string | undefined {
  return kindIn((spec as { methods?: unknown } | undefined)?.methods, method);
}

/** The classifier's kind (linear, mlp, ec) in a matrix spec, when the spec names it. */
export function classifierKind(spec: unknown, classifier: string): string | undefined {
  return kindIn((spec as { classifiers?: unknown } | undefined)?.classifiers, classifier);
}

/** The row's display label: "no adapter (<C> C)" for kind `none`, else the method id. */
export function methodLabel(spec: unknown, method: string, classifier: string): string {
  if (methodKind(spec, method) !== "none") return method;
  const kind = classifierKind(spec, classifier) ?? classifier;
  return NO_ADAPTER[kind] ?? `no adapter (${classifier} C)`;
}

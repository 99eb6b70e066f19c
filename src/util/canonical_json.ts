/**
 * Canonical JSON (RFC 8785, by the `canonicalize` package) for everything that is hashed or
 * signed: cell ids, signed result documents, feature-cache keys. `canonicalJson` first checks that
 * the value is plain JSON data: `canonicalize` (like JSON.stringify) turns NaN into null, drops
 * functions and turns a Map into {}, and a hash key must never collide by such an accident.
 */
import canonicalize from "canonicalize";

/** Throws a TypeError naming the first place in `value` that JSON cannot represent faithfully. */
export function assertPlainJson(value: unknown, path = "$"): void {
  if (value === null) return;
  switch (typeof value) {
    case "boolean":
    case "string":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonical JSON: ${path} is ${value}, not a finite number`);
      }
      return;
    case "object": {
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v === undefined) throw new TypeError(`canonical JSON: ${path}[${i}] is undefined`);
          assertPlainJson(v, `${path}[${i}]`);
        });
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `canonical JSON: ${path} is a ${proto?.constructor?.name ?? "object"}, not a plain object`,
        );
      }
      for (const [k, v] of Object.entries(value)) if (v !== undefined) assertPlainJson(v, `${path}.${k}`);
      return;
    }
    default:
      throw new TypeError(`canonical JSON: ${path} is a ${typeof value}`);
  }
}

/** The RFC 8785 text of `value` (object members whose value is undefined are left out). */
export function canonicalJson(value: unknown): string {
  assertPlainJson(value);
  return canonicalize(value) as string;
}

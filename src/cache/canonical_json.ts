/**
 * Canonical JSON for hashing: object keys sorted by UTF-16 code units (as RFC 8785), no
 * whitespace, numbers in ECMAScript's shortest round-trip form (as JSON.stringify, which is what
 * RFC 8785 prescribes for finite numbers). Values that JSON cannot represent faithfully
 * (NaN, ±Infinity, undefined inside arrays, functions, typed arrays, class instances) are errors
 * rather than silently dropped or coerced: a cache key must never collide by accident.
 */
export function canonicalJson(value: unknown, path = "$"): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonical JSON: ${path} is ${value}, not a finite number`);
      }
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => canonicalJson(v, `${path}[${i}]`)).join(",")}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `canonical JSON: ${path} is a ${proto?.constructor?.name ?? "object"}, not a plain object`,
        );
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${
        keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k], `${path}.${k}`)}`).join(",")
      }}`;
    }
    default:
      throw new TypeError(`canonical JSON: ${path} is a ${typeof value}`);
  }
}

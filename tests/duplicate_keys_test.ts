/** Duplicate keys in JSON documents (src/results/duplicate_keys.ts). */
import assert from "node:assert/strict";
import { findDuplicateKey } from "../src/results/duplicate_keys.ts";

Deno.test("duplicate keys: found at any depth, after escapes, and only within one object", () => {
  assert.equal(findDuplicateKey('{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}'), null);
  assert.deepEqual(findDuplicateKey('{"a": 1,\n  "b": 2,\n  "a": 3}'), { key: "a", line: 3, column: 3 });
  assert.deepEqual(findDuplicateKey('{"rows": [{"m": {"x\\"y": 1, "x\\u0022y": 2}}]}')?.key, 'x"y');
  // Strings that look like keys inside values and arrays are not keys.
  assert.equal(findDuplicateKey('{"a": "{\\"a\\": 1, \\"a\\": 2}", "b": ["a", "a"]}'), null);
  assert.equal(findDuplicateKey('{"a": {}, "b": [], "c": [[{"k": 1}], {"k": 2}]}'), null);
});

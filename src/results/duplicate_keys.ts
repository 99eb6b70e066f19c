/**
 * Duplicate object keys in JSON text. `JSON.parse` keeps the last value of a repeated key, but a
 * verifier in another language may keep the first, so a signed document with a repeated key
 * could be read two ways; such documents are refused.
 */

/** The first repeated key of valid JSON `text`, with where it is (1-based), or null. */
export function findDuplicateKey(text: string): { key: string; line: number; column: number } | null {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack.at(-1)!;
        if (keys.has(key)) {
          const before = text.slice(0, i);
          const line = before.split("\n").length;
          return { key, line, column: i - before.lastIndexOf("\n") };
        }
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === "[") stack.push(null);
    else if (ch === "}" || ch === "]") stack.pop();
    else if (ch === ",") expectKey = stack.at(-1) instanceof Set;
  }
  return null;
}

/** A message for the first repeated key of `text`, or null. */
export function duplicateKeyProblem(text: string): string | null {
  const d = findDuplicateKey(text);
  return d
    ? `line ${d.line}, column ${d.column}: key "${d.key}" appears twice in one object; ` +
      `JSON readers disagree on which value counts, so the document is refused`
    : null;
}

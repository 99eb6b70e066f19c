/**
 * Reads a matrix file (YAML or JSON) and validates it. Every error names the file, the line and
 * column, the field path and what was expected, so a user can fix the matrix without guessing.
 */
import { isNode, LineCounter, parseDocument } from "yaml";
import { MATRIX_SCHEMA_ID, MatrixSpec } from "./schema.ts";

export class MatrixError extends Error {
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(`${file}: invalid matrix\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "MatrixError";
  }
}

export interface ParsedMatrix {
  spec: MatrixSpec;
  /** Absolute path of the matrix file ("" for in-memory text). */
  file: string;
  /** The exact bytes read, for the matrix sha256 in results. */
  text: string;
}

function describePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("") ||
    "(top level)";
}

/** Parses and validates matrix `text`; `file` is only used in messages and for relative paths. */
export function parseMatrix(text: string, file = "<matrix>"): ParsedMatrix {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return "";
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  if (doc.errors.length) {
    throw new MatrixError(file, doc.errors.map((e) => `${at(e.pos[0])}: ${e.message.split("\n")[0]}`));
  }
  const raw = doc.toJS();
  const parsed = MatrixSpec.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      // Point at the deepest node that exists on the issue's path.
      let path = issue.code === "unrecognized_keys"
        ? [...issue.path, issue.keys[0]]
        : issue.path as PropertyKey[];
      let node = doc.getIn(path, true);
      while (!isNode(node) && path.length) {
        path = path.slice(0, -1);
        node = path.length ? doc.getIn(path, true) : doc.contents;
      }
      const where = isNode(node) && node.range ? at(node.range[0]) : "";
      let message = issue.message;
      if (issue.code === "unrecognized_keys") {
        message = `unknown field(s) ${
          issue.keys.map((k) => `"${k}"`).join(", ")
        }; remove or fix the spelling`;
      }
      if (issue.path.length === 1 && issue.path[0] === "schema") {
        message = `expected schema: ${MATRIX_SCHEMA_ID}`;
      }
      return `${where ? where + ": " : ""}${describePath(issue.path)}: ${message}`;
    });
    throw new MatrixError(file, problems);
  }
  const spec = parsed.data;
  const problems = duplicateIds(spec);
  if (problems.length) throw new MatrixError(file, problems);
  return { spec, file, text };
}

function duplicateIds(spec: MatrixSpec): string[] {
  const problems: string[] = [];
  for (const key of ["datasets", "backbones", "augmentations", "methods", "classifiers"] as const) {
    const seen = new Set<string>();
    for (const item of spec[key] as { id: string }[]) {
      if (seen.has(item.id)) problems.push(`${key}: id "${item.id}" is declared twice; ids must be unique`);
      seen.add(item.id);
    }
  }
  if (new Set(spec.seeds).size !== spec.seeds.length) problems.push("seeds: a seed is listed twice");
  return problems;
}

/** Reads and validates a matrix file. */
export async function loadMatrix(path: string): Promise<ParsedMatrix> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new MatrixError(path, [`cannot read the file: ${(e as Error).message}`]);
  }
  const file = await Deno.realPath(path);
  return { ...parseMatrix(text, path), file };
}

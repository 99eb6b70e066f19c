/**
 * Reads a matrix file (YAML or JSON) and validates it. Every error names the file, the line and
 * column, the field path and what was expected, so a user can fix the matrix without guessing.
 */
import { MatrixError } from "../errors.ts";
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { countCells, MAX_CELLS } from "./expand.ts";
import { FRESH_VIEWS, isAdapter, MATRIX_SCHEMA_ID, type MatrixSpec } from "./schema.ts";
import { decodeUtf8, yamlValue } from "./yaml_value.ts";

export interface ParsedMatrix {
  spec: MatrixSpec;
  /** Absolute path of the matrix file ("" for in-memory text). */
  file: string;
  /** The exact bytes read, for the matrix sha256 in results. */
  text: string;
  /** "line L, column C" where the node at `path` starts, for problems found after parsing. */
  where?: (path: readonly PropertyKey[]) => string;
}

/** The parts of a zod schema's definition that `knownFields` walks. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  values?: unknown[];
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/**
 * The field names allowed in the object at `path` of the matrix schema, given the raw `value` at
 * the root (to pick the variant of a union, e.g. an augmentation by its `kind`).
 */
function knownFields(schema: z.ZodType, path: readonly PropertyKey[], value: unknown): string[] {
  const def = defOf(schema);
  const child = (v: unknown, k: PropertyKey) =>
    v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  switch (def.type) {
    case "default":
    case "prefault":
    case "optional":
    case "nullable":
      return knownFields(def.innerType!, path, value);
    case "pipe":
      return knownFields(def.in!, path, value);
    case "lazy":
      return knownFields(def.getter!(), path, value);
    case "array":
      return path.length ? knownFields(def.element!, path.slice(1), child(value, path[0])) : [];
    case "object":
      if (!path.length) return Object.keys(def.shape!);
      return def.shape![String(path[0])]
        ? knownFields(def.shape![String(path[0])], path.slice(1), child(value, path[0]))
        : [];
    case "union": {
      // The variants whose literal fields (e.g. `kind`) match the value; all of them when none does.
      const variants = def.options!.filter((o) => defOf(o).type === "object");
      const matching = variants.filter((o) =>
        Object.entries(defOf(o).shape!).every(([k, f]) =>
          defOf(f).type !== "literal" || defOf(f).values!.includes(child(value, k))
        )
      );
      return [
        ...new Set((matching.length ? matching : variants).flatMap((o) => knownFields(o, path, value))),
      ];
    }
    default:
      return [];
  }
}

/**
 * Replaces each failed union (e.g. a classifier given by name or as an object) by the issues of
 * the alternative that got furthest into the value, so the message says what is wrong inside it
 * rather than only "Invalid input".
 */
function unionBranches(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union" || !issue.errors.length) return [issue];
    const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length));
    const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
    return unionBranches(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
  });
}

/** Where the YAML node at `path` starts ("" when the path has no node). */
function locate(doc: Document, path: readonly PropertyKey[], at: (offset: number) => string): string {
  let p = [...path];
  let node = doc.getIn(p, true);
  while (!isNode(node) && p.length) {
    p = p.slice(0, -1);
    node = p.length ? doc.getIn(p, true) : doc.contents;
  }
  return isNode(node) && node.range ? at(node.range[0]) : "";
}

/** Where the key `key` of the mapping at `path` starts (for unknown fields). */
function locateKey(
  doc: Document,
  path: readonly PropertyKey[],
  key: string,
  at: (offset: number) => string,
): string {
  const map = path.length ? doc.getIn(path, true) : doc.contents;
  const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && String(p.key.value) === key) : undefined;
  return isScalar(pair?.key) && pair.key.range ? at(pair.key.range[0]) : locate(doc, [...path, key], at);
}

/** A path as a field name: methods[1].training.views. */
export function describePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("") ||
    "(top level)";
}

/**
 * A problem found after parsing (e.g. in a method file's parameters), located in matrix `text`
 * like parse errors: "line L, column C: path: message"; `unknownKey` points at the key itself.
 */
export function locatedProblem(
  text: string,
  path: readonly PropertyKey[],
  message: string,
  unknownKey = false,
): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  const where = unknownKey
    ? locateKey(doc, path.slice(0, -1), String(path.at(-1)), at)
    : locate(doc, path, at);
  return `${where ? where + ": " : ""}${describePath(path)}: ${message}`;
}

/**
 * Parses and validates matrix `text` against `schema` (the matrix schema generated from the
 * catalogs: src/catalogs.ts binds it as `parseMatrix`); `file` is only used in messages.
 */
export function parseMatrixWith(
  schema: z.ZodType<MatrixSpec>,
  text: string,
  file = "<matrix>",
): ParsedMatrix {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  if (doc.errors.length) {
    throw new MatrixError(file, doc.errors.map((e) => `${at(e.pos[0])}: ${e.message.split("\n")[0]}`));
  }
  const plain = yamlValue(doc);
  if ("problem" in plain) throw new MatrixError(file, [`${at(plain.offset)}: ${plain.problem}`]);
  const raw = plain.value;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = unionBranches(parsed.error.issues).map((issue) => {
      // Point at the deepest node that exists on the issue's path.
      const where = issue.code === "unrecognized_keys"
        ? locateKey(doc, issue.path, issue.keys[0], at)
        : issue.code === "custom" && issue.params?.unknownKey
        ? locateKey(doc, issue.path.slice(0, -1), String(issue.path.at(-1)), at)
        : locate(doc, issue.path, at);
      let message = issue.message;
      if (issue.code === "unrecognized_keys") {
        const known = knownFields(schema, issue.path, raw);
        message = `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}; expected ${
          known.length ? `one of ${known.join(", ")}` : "no other fields"
        }`;
      }
      if (issue.path.length === 1 && issue.path[0] === "schema") {
        message = `expected schema: ${MATRIX_SCHEMA_ID}`;
      }
      return `${where ? where + ": " : ""}${describePath(issue.path)}: ${message}`;
    });
    throw new MatrixError(file, problems);
  }
  const spec = parsed.data;
  const where = (path: PropertyKey[]) => locate(doc, path, at);
  const problems = [
    ...duplicateIds(spec, where),
    ...viewPoolProblems(spec, where),
    ...patternProblems(spec, where),
  ];
  if (problems.length) throw new MatrixError(file, problems);
  const { product, kept } = countCells(spec);
  if (product > MAX_CELLS) {
    throw new MatrixError(file, [
      `${
        locate(doc, ["datasets"], at)
      }: the lists multiply to ${product} cells, more than the ${MAX_CELLS} ` +
      `one matrix may have; split it into several matrices`,
    ]);
  }
  if (kept === 0) {
    const field = spec.include ? "include" : "exclude";
    throw new MatrixError(file, [
      `${locate(doc, [field], at)}: ${field}: include/exclude leave none of the matrix's ${product} cells; ` +
      `expected at least one`,
    ]);
  }
  return { spec, file, text, where: (path) => locate(doc, path, at) };
}

function duplicateIds(spec: MatrixSpec, where: (path: PropertyKey[]) => string): string[] {
  const problems: string[] = [];
  for (const key of ["datasets", "backbones", "augmentations", "methods", "classifiers"] as const) {
    const first = new Map<string, number>();
    (spec[key] as { id: string }[]).forEach((item, i) => {
      const j = first.get(item.id);
      if (j !== undefined) {
        // A classifier given as a bare name ("linear") has no `id` node: point at the entry.
        problems.push(
          `${where([key, i, "id"])}: ${key}[${i}].id: "${item.id}" is already the id of ${key}[${j}]; ` +
            `expected a unique id`,
        );
      } else first.set(item.id, i);
    });
  }
  const seen = new Map<number, number>();
  spec.seeds.forEach((seed, i) => {
    const j = seen.get(seed);
    if (j !== undefined) {
      problems.push(
        `${where(["seeds", i])}: seeds[${i}]: ${seed} is already seeds[${j}]; expected unique seeds`,
      );
    } else seen.set(seed, i);
  });
  return problems;
}

/**
 * include/exclude patterns naming an id or seed the matrix does not declare: a typo would
 * otherwise match no cell, excluding nothing (or including less) without a word.
 */
function patternProblems(spec: MatrixSpec, where: (path: PropertyKey[]) => string): string[] {
  const declared = {
    dataset: spec.datasets.map((d) => d.id),
    backbone: spec.backbones.map((b) => b.id),
    augmentation: spec.augmentations.map((a) => a.id),
    method: spec.methods.map((m) => m.id),
    classifier: spec.classifiers.map((c) => c.id),
  };
  const problems: string[] = [];
  for (const list of ["include", "exclude"] as const) {
    (spec[list] ?? []).forEach((pattern, i) => {
      for (const [field, value] of Object.entries(pattern)) {
        if (value === undefined) continue;
        const path = [list, i, field];
        if (field === "seed") {
          if (!spec.seeds.includes(value as number)) {
            problems.push(
              `${where(path)}: ${describePath(path)}: ${value} is not a seed of this matrix; ` +
                `expected one of ${spec.seeds.join(", ")}`,
            );
          }
          continue;
        }
        const ids = declared[field as keyof typeof declared];
        if (!ids.includes(value as string)) {
          problems.push(
            `${where(path)}: ${describePath(path)}: "${value}" is not a ${field} id of this matrix; ` +
              `expected one of ${ids.join(", ")}`,
          );
        }
      }
    });
  }
  return problems;
}

/**
 * Adapters whose step draws more views than their pool holds (training.views > an integer
 * training.view_pool, after the adapter's own training overrides the matrix's): a cell would
 * otherwise fail mid-run. Points at the field that set the larger side, the adapter's own first.
 */
function viewPoolProblems(spec: MatrixSpec, where: (path: PropertyKey[]) => string): string[] {
  const problems: string[] = [];
  spec.methods.forEach((method, i) => {
    if (!isAdapter(method)) return;
    const views = method.training.views ?? spec.training.views;
    const pool = method.training.view_pool ?? spec.training.view_pool;
    if (pool === FRESH_VIEWS || views <= pool) return;
    const own = method.training.views !== undefined
      ? "views"
      : method.training.view_pool !== undefined
      ? "view_pool"
      : undefined;
    const path = own ? ["methods", i, "training", own] : ["training", "views"];
    problems.push(
      `${where(path)}: ${describePath(path)}: ` +
        `${method.id}: ${views} views per step (training.views) from a pool of ${pool} ` +
        `(training.view_pool); expected views ≤ view_pool`,
    );
  });
  return problems;
}

/** Reads and validates a matrix file against `schema`. */
export async function loadMatrixWith(schema: z.ZodType<MatrixSpec>, path: string): Promise<ParsedMatrix> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new MatrixError(path, [`cannot read the file: ${(e as Error).message}`]);
  }
  const text = decodeUtf8(bytes);
  if (typeof text !== "string") throw new MatrixError(path, [text.problem]);
  const file = await Deno.realPath(path);
  return { ...parseMatrixWith(schema, text, path), file };
}

/**
 * What a catalog entry of each component kind declares, as plain data: the matrix schema, the
 * runner, the docs and `--help` all read these (src/catalogs.ts gathers them). This file and its
 * imports hold no tensor code, so the matrix layer may read the entries without reaching up.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";

/** One numeric parameter or option: a loss's `params`, a baseline's options. */
export interface ParamSpec {
  readonly description: string;
  /** Used when the matrix gives none; absent for optional parameters with a computed fallback. */
  readonly default?: number;
  readonly integer?: boolean;
  /** Inclusive lower bound, unless `exclusiveMin`. */
  readonly min?: number;
  readonly exclusiveMin?: boolean;
  /** Inclusive upper bound. */
  readonly max?: number;
  /**
   * Without a `default`: the matrix's view budget (augmented views per train image, `viewBudget`
   * in src/matrix/schema.ts) is filled in when cells are expanded, so methods get equal budgets.
   */
  readonly viewBudget?: boolean;
  /**
   * Added after results were signed: the default is applied when the loss runs, not when the
   * matrix is parsed or expanded, so cell specs (and ids) that do not give it stay as they were.
   */
  readonly late?: boolean;
}

export type ParamsSpec = Readonly<Record<string, ParamSpec>>;

/** The values of `P` once resolved: a number, or undefined for an optional parameter not given. */
export type ParamValues<P extends ParamsSpec> = {
  readonly [K in keyof P]: P[K] extends { default: number } | { viewBudget: true } ? number
    : number | undefined;
};

/** An adapter loss, as data: what the matrix validates and the docs list. */
export interface LossEntry {
  readonly name: string;
  readonly summary: string;
  readonly params: ParamsSpec;
  /** Whether the loss reads `anchors` (the clean F features). */
  readonly usesAnchors: boolean;
  /** Whether the loss draws random numbers from (seed, step). */
  readonly random: boolean;
  /** Whether it requires d' = d. */
  readonly sameDim: boolean;
  /** The fewest views (s + 1) it accepts. */
  readonly minViews: number;
}

/** A method kind other than the adapter: its numeric options, as data. */
export interface MethodEntry {
  readonly kind: string;
  readonly summary: string;
  readonly options: ParamsSpec;
}

/** A classifier kind (`classifiers[].kind`). */
export interface ClassifierEntry {
  readonly kind: string;
  readonly summary: string;
}

/** A dataset source (`datasets[].source`). */
export interface DataSourceEntry {
  readonly source: string;
  readonly summary: string;
  /** "images" run through a backbone; "features" are precomputed and cannot run in a matrix. */
  readonly yields: "images" | "features";
  /** Matrix fields this source reads besides id, source, path, classes, train and test (`DATASET_FIELDS`). */
  readonly fields?: readonly DatasetField[];
}

/** The dataset fields only some sources read; a matrix naming one for another source is refused. */
export const DATASET_FIELDS = ["holdout", "channels", "image_column", "label_column", "splits"] as const;
export type DatasetField = typeof DATASET_FIELDS[number];

/** One field of an augmentation: a number, or a range [lo, hi] whose ends share the bounds. */
export interface AugmentationNumberField {
  readonly description: string;
  readonly type: "number" | "range";
  /** Whole numbers only (e.g. a corruption's severity). */
  readonly integer?: boolean;
  /** A `number` field that also takes an [x, y] pair (one value per axis). */
  readonly pair?: boolean;
  readonly default: number | readonly [number, number];
  /** Bounds of the number (of each end of a range); exclusive when flagged. */
  readonly min?: number;
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  readonly exclusiveMax?: boolean;
  /**
   * Added after matrices were signed: the default is applied when the augmentation is resolved,
   * not by the matrix schema, so the parsed spec (and every existing cell id) stays as it was.
   */
  readonly late?: boolean;
}

/** A field holding a list of augmentations (`compose`'s steps, `random_choice`'s ops), each without an id. */
export interface AugmentationListField {
  readonly description: string;
  readonly type: "augmentations";
}

export type AugmentationField = AugmentationNumberField | AugmentationListField;

/** An augmentation kind, as data: its fields with defaults and bounds. */
export interface AugmentationEntry {
  readonly kind: string;
  readonly summary: string;
  readonly fields: Readonly<Record<string, AugmentationField>>;
}

/** Every catalog the matrix schema is generated from. */
export interface Catalogs {
  readonly augmentations: readonly AugmentationEntry[];
  readonly losses: readonly LossEntry[];
  readonly methods: readonly MethodEntry[];
  readonly classifiers: readonly ClassifierEntry[];
  readonly dataSources: readonly DataSourceEntry[];
}

/** The strict zod schema of a parameter list: names, defaults and bounds from the entry. */
export function paramsSchema(params: ParamsSpec) {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, p] of Object.entries(params)) {
    let n = z.number().describe(p.description);
    if (p.integer) n = n.int();
    if (p.min !== undefined) n = p.exclusiveMin ? n.gt(p.min) : n.gte(p.min);
    if (p.max !== undefined) n = n.lte(p.max);
    shape[name] = p.default === undefined || p.late ? n.optional() : n.default(p.default);
  }
  return z.strictObject(shape);
}

/** `values` with the late parameters of `params` that are absent filled with their defaults. */
export function withLateDefaults<V extends Readonly<Record<string, number | undefined>>>(
  params: ParamsSpec,
  values: V,
): V {
  const out: Record<string, number | undefined> = { ...values };
  for (const [name, p] of Object.entries(params)) {
    if (p.late && out[name] === undefined) out[name] = p.default;
  }
  return out as V;
}

/**
 * The zod schema of one augmentation field (with its default unless the field is `late`); a list
 * field's items are `nested`, the schema of an augmentation without an id.
 */
export function augmentationFieldSchema(f: AugmentationField, nested: () => z.ZodType): z.ZodType {
  if (f.type === "augmentations") return z.array(z.lazy(nested)).min(1).describe(f.description);
  let n = f.integer ? z.number().int() : z.number();
  if (f.min !== undefined) n = f.exclusiveMin ? n.gt(f.min) : n.gte(f.min);
  if (f.max !== undefined) n = f.exclusiveMax ? n.lt(f.max) : n.lte(f.max);
  const range = z.tuple([n, n]).refine(([lo, hi]) => lo <= hi, "expected [lo, hi] with lo ≤ hi");
  const value = f.type === "range" ? range : f.pair ? z.union([n, z.tuple([n, n])]) : n;
  const described = value.describe(f.description);
  // A range's default is a fresh array each time (zod hands the default object out as is).
  const def = () => (Array.isArray(f.default) ? [...f.default] : f.default);
  return f.late ? described.optional() : (described as z.ZodType as z.ZodNumber).default(def as never);
}

/** What values an augmentation field takes, in words. */
export function describeField(f: AugmentationField): string {
  if (f.type === "augmentations") return "a non-empty list of augmentations";
  const bounds = [
    f.min === undefined ? "" : `${f.exclusiveMin ? ">" : "≥"} ${f.min}`,
    f.max === undefined ? "" : `${f.exclusiveMax ? "<" : "≤"} ${f.max}`,
  ].filter(Boolean).join(" and ");
  const each = bounds ? `each ${bounds}` : "finite";
  if (f.type === "range") return `[lo, hi] with lo ≤ hi, ${each}`;
  if (f.integer) return `an integer ${bounds || "(any)"}`;
  return `${f.pair ? "a number or an [x, y] pair, " : "a number "}${
    bounds ? `${f.pair ? "each " : ""}${bounds}` : "finite"
  }`;
}

/**
 * The value of field `name` of augmentation `entry` in `spec`, its default when absent; a value
 * out of bounds is a ConfigError naming the kind and the field.
 */
export function augmentationField(
  entry: AugmentationEntry,
  spec: Readonly<Record<string, unknown>>,
  name: string,
): number | readonly [number, number] {
  const f = entry.fields[name];
  if (f.type === "augmentations") {
    throw new Error(`${entry.kind}.${name} is a list: read it with augmentationList`);
  }
  const v = spec[name] ?? f.default;
  const ok = (x: unknown) =>
    typeof x === "number" && Number.isFinite(x) && (!f.integer || Number.isInteger(x)) &&
    (f.min === undefined || (f.exclusiveMin ? x > f.min : x >= f.min)) &&
    (f.max === undefined || (f.exclusiveMax ? x < f.max : x <= f.max));
  const pairOk = Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1]);
  const valid = f.type === "range" ? pairOk && v[0] <= v[1] : ok(v) || (f.pair === true && pairOk);
  if (!valid) {
    throw new ConfigError(
      `augmentation ${entry.kind}.${name}`,
      `${JSON.stringify(v)}: expected ${describeField(f)}`,
    );
  }
  return Array.isArray(v) ? [v[0], v[1]] : v as number;
}

/**
 * `given` checked against `params` with defaults filled in; an unknown name or a value out of
 * bounds is a ConfigError naming `owner` and the parameter (e.g. "simclr params.temperature").
 */
export function resolveParams<P extends ParamsSpec>(
  owner: string,
  params: P,
  given: Readonly<Record<string, unknown>> = {},
): ParamValues<P> {
  const r = paramsSchema(params).safeParse(given);
  if (r.success) return r.data as ParamValues<P>;
  const issue = r.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(params);
    throw new ConfigError(
      `${owner}.${issue.keys[0]}`,
      `unknown parameter "${issue.keys[0]}"; expected ${
        known.length ? `one of ${known.join(", ")}` : "none"
      }`,
    );
  }
  const name = String(issue.path[0]);
  throw new ConfigError(
    `${owner}.${name}`,
    `${JSON.stringify(given[name])}; expected ${describeParam(params[name])}`,
  );
}

/** What values a parameter takes, in words: "an integer ≥ 1", "a number > 0". */
export function describeParam(p: ParamSpec): string {
  const bounds = [
    p.min === undefined ? "" : `${p.exclusiveMin ? ">" : "≥"} ${p.min}`,
    p.max === undefined ? "" : `≤ ${p.max}`,
  ].filter(Boolean).join(" and ");
  return `${p.integer ? "an integer" : "a number"}${bounds ? ` ${bounds}` : ""}`;
}

/**
 * A catalog keyed by `key`: entries in declaration order, and `get(name)`, which fails listing
 * what exists. Two entries with one name are a bug in the registration.
 */
export function catalog<E, K extends keyof E & string>(
  what: string,
  key: K,
  entries: readonly E[],
): { readonly entries: readonly E[]; readonly names: readonly string[]; get(name: string): E } {
  const byName = new Map<string, E>();
  for (const e of entries) {
    const name = e[key] as string;
    if (byName.has(name)) throw new Error(`${what} "${name}" is registered twice`);
    byName.set(name, e);
  }
  const names = [...byName.keys()];
  return {
    entries,
    names,
    get(name: string): E {
      const e = byName.get(name);
      if (!e) throw new ConfigError(what, `unknown ${what} "${name}"; expected one of ${names.join(", ")}`);
      return e;
    },
  };
}

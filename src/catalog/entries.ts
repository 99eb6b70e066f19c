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
}

export type ParamsSpec = Readonly<Record<string, ParamSpec>>;

/** The values of `P` once resolved: a number, or undefined for an optional parameter not given. */
export type ParamValues<P extends ParamsSpec> = {
  readonly [K in keyof P]: P[K] extends { default: number } ? number : number | undefined;
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
}

/** Every catalog the matrix schema is generated from. */
export interface Catalogs {
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
    shape[name] = p.default === undefined ? n.optional() : n.default(p.default);
  }
  return z.strictObject(shape);
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

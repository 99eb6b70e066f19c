/**
 * The settings of a result's matrix that differ from the paper's (paper_protocol.ts), for the
 * "deviations" block of result.md and of the leaderboard's submission page. The spec is read
 * generically: a field the spec does not hold is not compared (an older harness, or a setting
 * that did not exist yet), except where the paper sets nothing (`paper: null`), which any value
 * in the spec departs from.
 */
import { ADAPTER_KIND } from "../matrix/schema.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { PAPER_SETTINGS, type PaperSetting, type Scope } from "./paper_protocol.ts";
import { classifierKind } from "./method_label.ts";

export interface Deviation {
  /** What the setting is ("adapter epochs"). */
  what: string;
  /** The value in the matrix, as text. */
  value: string;
  /** The paper's value, as text. */
  paper: string;
  /** The ids of the methods, classifiers, augmentations or datasets it applies to; ["all …"] when all. */
  where: string[];
  /** The PROTOCOL.md section the paper's value comes from. */
  section: string;
}

type Obj = Record<string, unknown>;

function objects(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter((x): x is Obj => !!x && typeof x === "object") : [];
}

function idOf(o: Obj): string {
  return String(o.id ?? "?");
}

function field(o: unknown, path: string): unknown {
  let v = o;
  for (const k of path.split(".")) v = v && typeof v === "object" ? (v as Obj)[k] : undefined;
  return v;
}

/** The items a scope covers: an id, the object its field is read from, and an adapter's loss. */
function itemsOf(spec: Obj, scope: Scope): { id: string; from: unknown; loss?: string }[] {
  const methods = objects(spec.methods);
  const adapters = methods.filter((m) => m.kind === ADAPTER_KIND);
  switch (scope.in) {
    case "adapter_training":
      return adapters.map((m) => ({
        id: idOf(m),
        from: { ...(spec.training as Obj | undefined), ...(m.training as Obj | undefined) },
        loss: typeof m.loss === "string" ? m.loss : undefined,
      }));
    case "loss_params":
      return adapters.filter((m) => m.loss === scope.loss).map((m) => ({
        id: idOf(m),
        from: m.params ?? {},
      }));
    case "classifier":
      return (Array.isArray(spec.classifiers) ? spec.classifiers : []).map((c) =>
        typeof c === "string" ? { id: c, from: { id: c } } : { id: idOf(c as Obj), from: c }
      );
    case "evaluation":
      return spec.evaluation ? [{ id: "evaluation", from: spec.evaluation }] : [];
    case "augmentation":
      return objects(spec.augmentations).filter((a) => a.kind === scope.kind).map((a) => ({
        id: idOf(a),
        from: a,
      }));
    case "dataset":
      return objects(spec.datasets).map((d) => ({ id: idOf(d), from: d }));
    case "no_adapter": {
      const classifiers = (Array.isArray(spec.classifiers) ? spec.classifiers : []).map((c) =>
        typeof c === "string" ? c : idOf(c as Obj)
      );
      const kinds = [...new Set(classifiers.map((c) => classifierKind(spec, c) ?? c))].sort();
      return methods.filter((m) => m.kind === "none").map((m) => ({
        id: idOf(m),
        from: { classifiers: kinds },
      }));
    }
  }
}

const SCOPE_ALL: Record<Scope["in"], string> = {
  adapter_training: "all adapters",
  loss_params: "all",
  classifier: "all classifiers",
  evaluation: "evaluation",
  augmentation: "all",
  dataset: "all datasets",
  no_adapter: "all no-adapter rows",
};

function text(v: unknown, unit?: PaperSetting["unit"]): string {
  if (unit === "view_pool" && typeof v === "number") return `a pool of ${v} cached views per image`;
  if (unit === "limit" && typeof v === "number") return `${v} images`;
  if (unit === "classifier_kinds" && Array.isArray(v)) return v.join(", ");
  if (Array.isArray(v)) return `[${v.map((x) => text(x)).join(", ")}]`;
  return typeof v === "string" ? v : JSON.stringify(v) ?? "–";
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Whether a value found in the spec (undefined: absent) is the paper's, for one setting. */
function agrees(s: PaperSetting, value: unknown, loss?: string): boolean {
  if (value === undefined) return true; // absent: not compared, or the paper's "nothing set"
  if (s.paper === null) return false;
  if (s.contains) return Array.isArray(value) && value.some((v) => same(v, s.paper));
  if (same(value, s.paper)) return true;
  return loss !== undefined && (s.variants?.[loss] ?? []).some((x) => same(x, value));
}

/** The deviations of a resolved matrix spec from the paper's settings, in the table's order. */
export function deviationsOf(spec: unknown): Deviation[] {
  if (!spec || typeof spec !== "object") return [];
  const out: Deviation[] = [];
  for (const s of PAPER_SETTINGS) {
    const items = itemsOf(spec as Obj, s.scope);
    const differing = items.filter((it) => !agrees(s, field(it.from, s.field), it.loss));
    // One line per distinct value, naming where it applies.
    const byValue = new Map<string, string[]>();
    for (const it of differing) {
      const key = text(field(it.from, s.field), s.unit);
      byValue.set(key, [...(byValue.get(key) ?? []), it.id]);
    }
    for (const [value, ids] of byValue) {
      out.push({
        what: s.what,
        value,
        paper: s.paperText ?? text(s.paper, s.unit),
        where: ids.length === items.length && items.length > 1 ? [SCOPE_ALL[s.scope.in]] : ids,
        section: s.section,
      });
    }
  }
  return out;
}

/** The sentence above the block, shared by result.md and the submission page. */
export const DEVIATIONS_INTRO = "Settings of this result's matrix that differ from the paper's protocol " +
  "(docs/protocol.md); a setting the matrix does not state is not compared.";

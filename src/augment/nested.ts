/**
 * The kind lookup for kinds made of other kinds (`compose`, `random_choice`). ../spec.ts sets it
 * once every kind is registered, so no file in ./kinds/ imports spec.ts, which imports them all
 * (a kind file imported first would otherwise meet the registry half-built).
 */
import { ConfigError } from "../errors.ts";
import type { AugmentationKind, ResolvedSpec } from "./kind.ts";

let lookup: ((kind: unknown) => AugmentationKind) | undefined;

/** Called by spec.ts with its `kindOf`. */
export function setKindLookup(f: (kind: unknown) => AugmentationKind): void {
  lookup = f;
}

/** The kind of a nested spec; `where` names the list entry in errors (e.g. "compose.steps[1]"). */
export function nestedKind(spec: unknown, where: string): AugmentationKind {
  if (!lookup) throw new Error("augmentation kinds are not registered yet (import src/augment/spec.ts)");
  if (!spec || typeof spec !== "object" || Array.isArray(spec)) {
    throw new ConfigError(
      `augmentation ${where}`,
      `${JSON.stringify(spec)}: expected an augmentation object`,
    );
  }
  return lookup((spec as { kind: unknown }).kind);
}

/** Each entry of the list field `name` resolved by its own kind. */
export function resolveList(
  spec: Readonly<Record<string, unknown>>,
  owner: string,
  name: string,
): ResolvedSpec[] {
  const list = spec[name];
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(
      `augmentation ${owner}.${name}`,
      `${JSON.stringify(list)}: expected a non-empty list of augmentations`,
    );
  }
  return list.map((s, k) => nestedKind(s, `${owner}.${name}[${k}]`).resolve(s));
}

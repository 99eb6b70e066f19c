/**
 * The method kinds besides the adapter, one line each; the matrix schema (their options), the
 * runner and the docs read this list through ../registry.ts.
 */
export { method as none } from "./none.ts";
export { method as augProbe } from "./aug_probe.ts";
export { method as tta } from "./tta.ts";
export { method as steer } from "./steer.ts";
export { method as canon } from "./canon.ts";

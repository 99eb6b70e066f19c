/**
 * The adapter losses, one line each (the name here is the matrix's `loss`, and must be the entry's
 * `name`); the matrix schema, the runner and the docs read this list through ./index.ts.
 */
export { loss as hsic } from "./hsic.ts";
export { loss as mawa } from "./mawa.ts";
export { loss as simclr } from "./simclr.ts";
export { loss as vicreg } from "./vicreg.ts";
export { loss as waco } from "./waco.ts";

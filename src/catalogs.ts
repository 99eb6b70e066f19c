/**
 * Every component catalog in one place, and the matrix schema generated from them. This is the
 * composition root: the matrix layer (src/matrix/) knows only the shape of a catalog entry
 * (src/catalog/entries.ts); the entries themselves live with their code (augmentations, losses,
 * method kinds, classifiers, dataset sources), each registered by one line, and are gathered here.
 */
import { AUGMENTATIONS } from "./augment/spec.ts";
import type { Catalogs } from "./catalog/entries.ts";
import { DATA_SOURCES } from "./data/registry.ts";
import { type Cell, expandMatrixWith, type MethodFileRef } from "./matrix/expand.ts";
import { loadMatrixWith, type ParsedMatrix, parseMatrixWith } from "./matrix/parse.ts";
import { matrixSchemas, type MatrixSpec as MatrixSpecType } from "./matrix/schema.ts";
import { CLASSIFIERS } from "./methods/classifier.ts";
import { LOSSES } from "./methods/losses/index.ts";
import { METHODS } from "./methods/registry.ts";

export const CATALOGS: Catalogs = {
  augmentations: AUGMENTATIONS.entries,
  losses: LOSSES.entries,
  methods: METHODS.entries,
  classifiers: CLASSIFIERS.entries,
  dataSources: DATA_SOURCES.entries,
};

/** `invbench.matrix/v1` and its parts, generated from the catalogs. */
export const { MatrixSpec, DatasetSpec, MethodSpec, ClassifierSpec, AugmentationSpec } = matrixSchemas(
  CATALOGS,
);

/** Parses and validates matrix `text`; `file` is only used in messages and for relative paths. */
export function parseMatrix(text: string, file = "<matrix>"): ParsedMatrix {
  return parseMatrixWith(MatrixSpec, text, file);
}

/**
 * All cells of the matrix in declaration order, adapters' loss parameters and the other methods'
 * view budgets with their defaults; `files` are the matrix's method files (src/matrix/method_files.ts).
 */
export function expandMatrix(spec: MatrixSpecType, files?: ReadonlyMap<string, MethodFileRef>): Cell[] {
  return expandMatrixWith(spec, CATALOGS.losses, files, CATALOGS.methods);
}

/** Reads and validates a matrix file. */
export function loadMatrix(path: string): Promise<ParsedMatrix> {
  return loadMatrixWith(MatrixSpec, path);
}

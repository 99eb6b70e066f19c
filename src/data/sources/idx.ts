/** `idx`: any images/labels pair in MNIST's IDX format (MNIST's file names under `path` by default). */
import { join } from "node:path";
import { finishIdx, IDX_FILES, readIdxPair } from "../mnist.ts";
import type { DataSource } from "../source.ts";
import { requirePath } from "./helpers.ts";

export const source: DataSource = {
  source: "idx",
  summary: "images and labels in IDX files (MNIST's names under `path`, or `files`)",
  yields: "images",
  load(spec, split) {
    const files = spec.files?.[split] ?? {};
    const at = (f: string | undefined, name: string) => f ?? join(requirePath(spec), name);
    const idx = readIdxPair(
      at(files.images, IDX_FILES[split].images),
      at(files.labels, IDX_FILES[split].labels),
      spec.classes,
      { onDemand: true },
    );
    return finishIdx(idx, { id: spec.id ?? "idx", source: "idx", split }, spec[split]);
  },
};

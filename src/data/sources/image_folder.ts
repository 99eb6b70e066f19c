/** `image-folder`: one directory of PNG/JPEG files per class, under train/ and test/ or with a seeded holdout. */
import { finishDecodedImages } from "../dataset.ts";
import { readImageFolder } from "../image_folder.ts";
import type { DataSource } from "../source.ts";
import { requirePath } from "./helpers.ts";

export const source: DataSource = {
  source: "image-folder",
  summary: "PNG/JPEG files in one directory per class under `path` (train/ and test/, or `holdout`)",
  yields: "images",
  fields: ["holdout", "channels"],
  async load(spec, split, context) {
    const folder = await readImageFolder(requirePath(spec), split, spec, context);
    const meta = {
      id: spec.id ?? "image-folder",
      source: "image-folder",
      split,
      classNames: folder.classNames,
    };
    return finishDecodedImages(folder.raw, folder.shape, meta, spec[split] ?? {}, folder.decodeSource);
  },
};

/**
 * `safetensors`: {split}.safetensors in `path` with tensors `features` (float32 [n, d]) and
 * `labels`: precomputed features, or images of the CHW shape `image` (library use).
 */
import { join } from "node:path";
import { DataError } from "../../errors.ts";
import { readSafetensors, tensorF32, tensorLabels } from "../safetensors.ts";
import type { DataSource } from "../source.ts";
import { fromMatrix, requirePath } from "./helpers.ts";

export const source: DataSource = {
  source: "safetensors",
  summary: "precomputed features: {split}.safetensors in `path` with tensors `features` and `labels`",
  yields: "features",
  load(spec, split) {
    const files = spec.files?.[split] ?? {};
    const st = readSafetensors(files.file ?? join(requirePath(spec), `${split}.safetensors`));
    const fName = spec.tensors?.features ?? "features", yName = spec.tensors?.labels ?? "labels";
    const f = tensorF32(st, fName);
    if (f.shape.length !== 2) {
      throw new DataError(
        st.file,
        { offset: 8, field: `header["${fName}"].shape` },
        "a 2-D shape [n, d]",
        `[${f.shape.join(", ")}]`,
      );
    }
    const m = { rows: f.shape[0], cols: f.shape[1], data: f.data, file: st.file };
    return fromMatrix(
      spec,
      split,
      m,
      tensorLabels(st, yName),
      st.file,
      [st.record],
      `safetensors/v1:${fName},${yName}`,
    );
  },
};

/** `stl10`: STL-10's binary version ({train,test}_{X,y}.bin) in `path`. */
import type { DataSource } from "../source.ts";
import { loadStl10 } from "../stl10.ts";
import { requirePath } from "./helpers.ts";

export const source: DataSource = {
  source: "stl10",
  summary: "STL-10 (96×96 colour, 10 classes), binary version in `path`",
  yields: "images",
  load: (spec, split) => loadStl10(requirePath(spec), split, { ...spec[split], id: spec.id }),
};

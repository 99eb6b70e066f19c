/** `mnist`: the MNIST package shipped with invbench, or MNIST's IDX files in `path`. */
import { loadMnist } from "../mnist.ts";
import type { DataSource } from "../source.ts";

export const source: DataSource = {
  source: "mnist",
  summary: "MNIST (28×28 grey digits, 10 classes) from the npm package, or its IDX files in `path`",
  yields: "images",
  load: (spec, split) => loadMnist(split, { ...spec[split], id: spec.id, dir: spec.path, onDemand: true }),
};

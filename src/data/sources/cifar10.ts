/** `cifar10`: CIFAR-10's binary version (data_batch_1..5.bin, test_batch.bin) in `path`. */
import { loadCifar10 } from "../cifar.ts";
import type { DataSource } from "../source.ts";
import { requirePath } from "./helpers.ts";

export const source: DataSource = {
  source: "cifar10",
  summary: "CIFAR-10 (32×32 colour, 10 classes), binary version in `path`",
  yields: "images",
  load: (spec, split) => loadCifar10(requirePath(spec), split, { ...spec[split], id: spec.id }),
};

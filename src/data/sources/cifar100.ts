/** `cifar100`: CIFAR-100's binary version (train.bin, test.bin) in `path`, fine or coarse labels. */
import { loadCifar100 } from "../cifar.ts";
import type { DataSource } from "../source.ts";
import { requirePath } from "./helpers.ts";

export const source: DataSource = {
  source: "cifar100",
  summary: "CIFAR-100 (32×32 colour, 100 fine or 20 coarse classes), binary version in `path`",
  yields: "images",
  load: (spec, split) =>
    loadCifar100(requirePath(spec), split, { ...spec[split], id: spec.id, labels: spec.labels }),
};

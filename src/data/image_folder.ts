/**
 * Image folders (torchvision's ImageFolder layout): one directory per class holding PNG and JPEG
 * files, either under `train/` and `test/` or directly under the root with a seeded holdout.
 *
 * Class names are the directory names sorted in JavaScript string order (UTF-16 code units), and
 * label i is the i-th name; files are taken class by class, each class's names sorted the same
 * way, so an image's index in the split is fixed by the names alone. Hidden files (a leading ".")
 * are skipped; any other file that is not .png, .jpg or .jpeg is an error naming it.
 *
 * Loading reads every file once: hashes it (the content hash covers every byte read), reads its
 * header, and decodes it to check it, keeping no pixels. Features are extracted later from
 * batches that `decode` reads and decodes again, re-checking each file's hash, so memory holds
 * one batch of images whatever the folder's size.
 */
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { CounterRng } from "../rng/philox.ts";
import { sha256Hex } from "../util/hash.ts";
import type { RawSplit, Split } from "./dataset.ts";
import { decodeImageInto, imageDecoder, imageHeader } from "./image_decode.ts";
import type { FileRecord } from "./source_file.ts";

const IMAGE_EXTENSION = /\.(png|jpe?g)$/i;
/** Files read and checked at once while loading (libvips decodes on its own threads). */
const CONCURRENT_FILES = 16;

/** A seeded holdout: `fraction` of each class goes to the test split. */
export interface Holdout {
  fraction: number;
  seed: number;
}

/** The image shape every decoded image of a dataset has. */
export interface DecodedShape {
  channels: 1 | 3;
  height: number;
  width: number;
}

/** One image of a split: its file and label. */
interface ImageEntry {
  path: string;
  label: number;
}

function readDir(dir: string, what: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (e) {
    throw new DataError(dir, { field: what }, "a readable directory", (e as Error).message);
  }
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The class directories of `dir` and their image files, classes and files sorted by name. */
function classFolders(dir: string): { classNames: string[]; images: { path: string; className: string }[] } {
  const entries = readDir(dir, "class directories").filter((e) => !e.name.startsWith("."));
  const stray = entries.find((e) => !e.isDirectory);
  if (stray) {
    throw new DataError(join(dir, stray.name), {}, "only class directories in an image folder", "a file");
  }
  const classNames = entries.map((e) => e.name).sort(byName);
  if (classNames.length === 0) {
    throw new DataError(dir, { field: "class directories" }, "at least one class directory", "none");
  }
  const images: { path: string; className: string }[] = [];
  for (const className of classNames) {
    const names = readDir(join(dir, className), `class "${className}"`)
      .filter((e) => !e.name.startsWith("."))
      .map((e) => {
        const path = join(dir, className, e.name);
        if (!e.isFile || !IMAGE_EXTENSION.test(e.name)) {
          throw new DataError(
            path,
            {},
            "a .png, .jpg or .jpeg image file",
            e.isFile ? "another file" : "a directory",
          );
        }
        return e.name;
      })
      .sort(byName);
    for (const name of names) images.push({ path: join(dir, className, name), className });
  }
  return { classNames, images };
}

/** Per class, the positions (in `labels` order) that a seeded holdout sends to the test split. */
export function holdoutTest(labels: Int32Array, classes: number, holdout: Holdout): Set<number> {
  const members: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((y, i) => members[y].push(i));
  const test = new Set<number>();
  members.forEach((m, c) => {
    const k = Math.round(holdout.fraction * m.length);
    const perm = new CounterRng(holdout.seed, "holdout", c).permutation(m.length);
    for (let j = 0; j < k; j++) test.add(m[perm[j]]);
  });
  return test;
}

/** The images of split `split` of the folder `dir`, with the class names. */
function splitImages(
  dir: string,
  split: Split,
  holdout: Holdout | undefined,
): { classNames: string[]; entries: ImageEntry[] } {
  const hasSplits = readDir(dir, "image folder").some((e) =>
    e.isDirectory && (e.name === "train" || e.name === "test")
  );
  if (hasSplits) {
    const train = classFolders(join(dir, "train"));
    const own = split === "train" ? train : classFolders(join(dir, "test"));
    const label = new Map(train.classNames.map((name, i) => [name, i]));
    const unknown = own.classNames.find((name) => !label.has(name));
    if (unknown !== undefined) {
      throw new DataError(
        join(dir, split, unknown),
        {},
        `a class of ${join(dir, "train")} (${train.classNames.join(", ")})`,
        `class "${unknown}"`,
      );
    }
    return {
      classNames: train.classNames,
      entries: own.images.map((f) => ({ path: f.path, label: label.get(f.className)! })),
    };
  }
  if (!holdout) {
    throw new DataError(
      dir,
      { field: "holdout" },
      "train/ and test/ subfolders, or a seeded holdout (datasets[].holdout: {fraction, seed}) for one folder of classes",
    );
  }
  const all = classFolders(dir);
  const label = new Map(all.classNames.map((name, i) => [name, i]));
  const labels = Int32Array.from(all.images, (f) => label.get(f.className)!);
  const test = holdoutTest(labels, all.classNames.length, holdout);
  const entries = all.images
    .map((f, i) => ({ path: f.path, label: labels[i], test: test.has(i) }))
    .filter((e) => e.test === (split === "test"))
    .map(({ path, label }) => ({ path, label }));
  return { classNames: all.classNames, entries };
}

function readFile(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    throw new DataError(path, {}, "a readable file", (e as Error).message);
  }
}

/**
 * Reads each image once: its record (path, sha256, size), header and a full decode to check it,
 * keeping no pixels. Every image must have the first one's height and width; the channels are
 * `channels` when given, else 1 when every image is grey and 3 otherwise.
 */
export async function checkImages(
  images: readonly { file: string; field?: string; bytes: () => Promise<Uint8Array> | Uint8Array }[],
  channels: 1 | 3 | undefined,
): Promise<{ records: FileRecord[]; shape: DecodedShape }> {
  if (images.length === 0) throw new RangeError("checkImages: no images");
  const first = await imageHeader(await images[0].bytes(), images[0].file, images[0].field);
  const check: DecodedShape = { channels: channels ?? 3, height: first.height, width: first.width };
  const records: FileRecord[] = [];
  let grey = true;
  for (let i = 0; i < images.length; i += CONCURRENT_FILES) {
    const read = await Promise.all(
      images.slice(i, i + CONCURRENT_FILES).map(async (im) => {
        const bytes = await im.bytes();
        const header = await imageHeader(bytes, im.file, im.field);
        const scratch = new Uint8Array(check.channels * check.height * check.width);
        await decodeImageInto(bytes, check, scratch, 0, im.file, im.field);
        return { record: { path: im.file, sha256: sha256Hex(bytes), bytes: bytes.byteLength }, header };
      }),
    );
    for (const r of read) {
      records.push(r.record);
      grey &&= r.header.channels === 1;
    }
  }
  return { records, shape: { ...check, channels: channels ?? (grey ? 1 : 3) } };
}

/** What an image-folder split is, before `finishDecodedImages` applies the split options. */
export interface FolderSplit {
  raw: RawSplit;
  shape: DecodedShape;
  classNames: string[];
  /** Decodes images by their index in the split: uint8 [indices.length, c, h, w]. */
  decodeSource(indices: Int32Array): Promise<Uint8Array>;
}

/** Reads split `split` of the image folder `dir` (see the module doc). */
export async function readImageFolder(
  dir: string,
  split: Split,
  options: { holdout?: Holdout; channels?: 1 | 3 },
): Promise<FolderSplit> {
  const { classNames, entries } = splitImages(dir, split, options.holdout);
  if (entries.length === 0) {
    throw new DataError(join(dir, split), {}, `at least one image in the ${split} split`, "none");
  }
  const { records, shape } = await checkImages(
    entries.map((e) => ({ file: e.path, bytes: () => readFile(e.path) })),
    options.channels,
  );
  const labels = Int32Array.from(entries, (e) => e.label);
  const raw: RawSplit = {
    values: new Uint8Array(0),
    perExample: shape.channels * shape.height * shape.width,
    labels,
    classes: classNames.length,
    files: records,
    convention: JSON.stringify({
      format: "image-folder/v1",
      decoder: await imageDecoder(),
      channels: shape.channels,
      classes: classNames,
      holdout: options.holdout ?? null,
    }),
  };
  const per = raw.perExample;
  return {
    raw,
    shape,
    classNames,
    async decodeSource(indices) {
      const out = new Uint8Array(indices.length * per);
      for (let i = 0; i < indices.length; i += CONCURRENT_FILES) {
        await Promise.all(Array.from(indices.subarray(i, i + CONCURRENT_FILES), async (index, j) => {
          const record = records[index];
          const bytes = readFile(record.path);
          if (sha256Hex(bytes) !== record.sha256) {
            throw new DataError(
              record.path,
              {},
              `the file hashed when the dataset was loaded (${record.sha256})`,
              "a changed file",
            );
          }
          await decodeImageInto(bytes, shape, out, (i + j) * per, record.path);
        }));
      }
      return out;
    },
  };
}

/**
 * Image folders (torchvision's ImageFolder layout): one directory per class holding PNG and JPEG
 * files, either under `train/` and `test/` or directly under the root with a seeded holdout.
 *
 * Class names are the directory names sorted in JavaScript string order (UTF-16 code units), and
 * label i is the i-th name; files are taken class by class, each class's names sorted the same
 * way, so an image's index in the split is fixed by the names alone. Hidden files (a leading ".")
 * are skipped; any other file that is not .png, .jpg or .jpeg is an error naming it.
 *
 * Loading reads every file once: hashes it into the split's manifest (./file_manifest.ts: a name,
 * sha256 and size per file, compactly; the content hash covers the manifest), reads its header,
 * and decodes it to check it, keeping no pixels. Features are extracted later from batches that
 * `decode` reads and decodes again, re-checking each file's hash, so memory holds one batch of
 * images whatever the folder's size. A run's cell workers are handed each split as the run's main
 * thread checked it (`LoadContext.checked`) instead of reading and hashing every file again.
 */
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { CounterRng } from "../rng/philox.ts";
import { sha256Bytes } from "../util/hash.ts";
import type { RawSplit, Split } from "./dataset.ts";
import { type FileManifest, fileSha256, newManifest } from "./file_manifest.ts";
import { decodeImageInto, imageDecoder, imageHeader } from "./image_decode.ts";
import type { LoadContext } from "./source.ts";

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

/** The image files of a folder of classes, and the class names. */
interface ClassFiles {
  classNames: string[];
  /** `prefix` + "<class>/<file>" per image, classes and files sorted by name. */
  names: string[];
  /** Index in `classNames` per image. */
  classOf: Int32Array;
}

function readDir(dir: string, what: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (e) {
    throw new DataError(dir, { field: what }, "a readable directory", (e as Error).message);
  }
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The class directories of `root/prefix` and their image files, classes and files sorted by name. */
function classFolders(root: string, prefix: string): ClassFiles {
  const dir = join(root, prefix);
  const entries = readDir(dir, "class directories").filter((e) => !e.name.startsWith("."));
  const stray = entries.find((e) => !e.isDirectory);
  if (stray) {
    throw new DataError(join(dir, stray.name), {}, "only class directories in an image folder", "a file");
  }
  const classNames = entries.map((e) => e.name).sort(byName);
  if (classNames.length === 0) {
    throw new DataError(dir, { field: "class directories" }, "at least one class directory", "none");
  }
  const names: string[] = [], classes: number[] = [];
  for (const [c, className] of classNames.entries()) {
    const files = readDir(join(dir, className), `class "${className}"`)
      .filter((e) => !e.name.startsWith("."))
      .map((e) => {
        if (!e.isFile || !IMAGE_EXTENSION.test(e.name)) {
          throw new DataError(
            join(dir, className, e.name),
            {},
            "a .png, .jpg or .jpeg image file",
            e.isFile ? "another file" : "a directory",
          );
        }
        return e.name;
      })
      .sort(byName);
    for (const name of files) {
      names.push(`${prefix}${className}/${name}`);
      classes.push(c);
    }
  }
  return { classNames, names, classOf: Int32Array.from(classes) };
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

/** The images of split `split` of the folder `dir`: names relative to `dir`, labels and class names. */
function splitImages(
  dir: string,
  split: Split,
  holdout: Holdout | undefined,
): { classNames: string[]; names: string[]; labels: Int32Array } {
  const hasSplits = readDir(dir, "image folder").some((e) =>
    e.isDirectory && (e.name === "train" || e.name === "test")
  );
  if (hasSplits) {
    const train = classFolders(dir, "train/");
    const own = split === "train" ? train : classFolders(dir, "test/");
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
      names: own.names,
      labels: own.classOf.map((c) => label.get(own.classNames[c])!),
    };
  }
  if (!holdout) {
    throw new DataError(
      dir,
      { field: "holdout" },
      "train/ and test/ subfolders, or a seeded holdout (datasets[].holdout: {fraction, seed}) for one folder of classes",
    );
  }
  const all = classFolders(dir, "");
  const test = holdoutTest(all.classOf, all.classNames.length, holdout);
  const keep = all.names.map((_, i) => i).filter((i) => test.has(i) === (split === "test"));
  return {
    classNames: all.classNames,
    names: keep.map((i) => all.names[i]),
    labels: Int32Array.from(keep, (i) => all.classOf[i]),
  };
}

function readFile(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    throw new DataError(path, {}, "a readable file", (e as Error).message);
  }
}

/** One image to check: where it is (for messages) and how to read its bytes. */
export interface ImageToCheck {
  file: string;
  field?: string;
  bytes: () => Promise<Uint8Array> | Uint8Array;
}

/**
 * Reads each of `count` images once (`image(i)`): its header and a full decode to check it, keeping
 * no pixels; `read` is handed each image's bytes (to hash them). Every image must have the first
 * one's height and width; the channels are `channels` when given, else 1 when every image is grey
 * and 3 otherwise.
 */
export async function checkImages(
  count: number,
  image: (i: number) => ImageToCheck,
  channels: 1 | 3 | undefined,
  read?: (i: number, bytes: Uint8Array) => void,
): Promise<DecodedShape> {
  if (count === 0) throw new RangeError("checkImages: no images");
  const im0 = image(0);
  const first = await imageHeader(await im0.bytes(), im0.file, im0.field);
  const check: DecodedShape = { channels: channels ?? 3, height: first.height, width: first.width };
  const scratch = Array.from(
    { length: CONCURRENT_FILES },
    () => new Uint8Array(check.channels * check.height * check.width),
  );
  let grey = true;
  for (let i = 0; i < count; i += CONCURRENT_FILES) {
    const greys = await Promise.all(
      Array.from({ length: Math.min(CONCURRENT_FILES, count - i) }, async (_, j) => {
        const im = image(i + j);
        const bytes = await im.bytes();
        const header = await imageHeader(bytes, im.file, im.field);
        await decodeImageInto(bytes, check, scratch[j], 0, im.file, im.field);
        read?.(i + j, bytes);
        return header.channels === 1;
      }),
    );
    grey &&= greys.every(Boolean);
  }
  return { ...check, channels: channels ?? (grey ? 1 : 3) };
}

/** An image-folder split as loading checked it: what a run's cell workers are handed instead of reading it again. */
export interface CheckedFolder {
  kind: "image-folder";
  manifest: FileManifest;
  labels: Int32Array;
  classNames: string[];
  shape: DecodedShape;
}

/** Reads, hashes and checks every image of split `split` of the folder `dir`. */
async function checkFolder(
  dir: string,
  split: Split,
  options: { holdout?: Holdout; channels?: 1 | 3 },
): Promise<CheckedFolder> {
  const { classNames, names, labels } = splitImages(dir, split, options.holdout);
  if (names.length === 0) {
    throw new DataError(join(dir, split), {}, `at least one image in the ${split} split`, "none");
  }
  const manifest = newManifest(dir, names);
  const shape = await checkImages(
    names.length,
    (i) => {
      const file = join(dir, names[i]);
      return { file, bytes: () => readFile(file) };
    },
    options.channels,
    (i, bytes) => {
      manifest.sha256.set(sha256Bytes(bytes), 32 * i);
      manifest.bytes[i] = bytes.byteLength;
    },
  );
  return { kind: "image-folder", manifest, labels, classNames, shape };
}

/** What an image-folder split is, before `finishDecodedImages` applies the split options. */
export interface FolderSplit {
  raw: RawSplit;
  shape: DecodedShape;
  classNames: string[];
  /** Decodes images by their index in the split: uint8 [indices.length, c, h, w]. */
  decodeSource(indices: Int32Array): Promise<Uint8Array>;
}

/**
 * Reads split `split` of the image folder `dir` (see the module doc). A split already in
 * `context.checked` (a cell worker's, handed over by the run) is taken from there, not read again;
 * one read here is added to it. `context.log` is told which of the two happened.
 */
export async function readImageFolder(
  dir: string,
  split: Split,
  options: { holdout?: Holdout; channels?: 1 | 3 },
  context: LoadContext = {},
): Promise<FolderSplit> {
  const key = JSON.stringify(["image-folder", dir, split, options.holdout ?? null, options.channels ?? null]);
  const known = context.checked?.get(key);
  let folder = known?.kind === "image-folder" ? known : undefined;
  if (folder) {
    context.log?.(
      `image folder ${dir} (${split}): ${folder.manifest.names.length} files as this run checked them`,
    );
  } else {
    folder = await checkFolder(dir, split, options);
    context.checked?.set(key, folder);
    context.log?.(
      `image folder ${dir} (${split}): ${folder.manifest.names.length} files read, hashed and checked`,
    );
  }
  const { manifest, shape, classNames } = folder;
  const raw: RawSplit = {
    values: new Uint8Array(0),
    perExample: shape.channels * shape.height * shape.width,
    labels: folder.labels,
    classes: classNames.length,
    files: [],
    manifest,
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
          const path = join(manifest.root, manifest.names[index]);
          const bytes = readFile(path);
          const sha = sha256Bytes(bytes);
          if (sha.some((b, k) => b !== manifest.sha256[32 * index + k])) {
            throw new DataError(
              path,
              {},
              `the file hashed when the dataset was loaded (${fileSha256(manifest, index)})`,
              "a changed file",
            );
          }
          await decodeImageInto(bytes, shape, out, (i + j) * per, path);
        }));
      }
      return out;
    },
  };
}

/**
 * Hugging Face datasets' parquet files, read with `hyparquet`: an image column (HF's `Image`
 * feature, a struct {bytes, path} whose `bytes` hold a PNG or JPEG file; a plain binary column is
 * taken as the bytes) and an integer label column, both named in the matrix. A split is one or more
 * files, their rows in file order then row order.
 *
 * Loading hashes every file (the content hash covers each byte), reads the label column whole
 * (n integers) and decodes every image once to check it, one row group at a time. Extraction then
 * decodes batches of rows through `decodeSource`, reading only the row groups that hold them, so
 * memory holds one row group's encoded images and one batch of pixels whatever the file's size.
 * A run's cell workers are handed each split as the run's main thread checked it
 * (`LoadContext.checked`: labels, each row's file and position, the records, the image shape)
 * instead of hashing every file and decoding every image again.
 */
import { createHash } from "node:crypto";
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { DataError } from "../errors.ts";
import { checkLabels, type RawSplit } from "./dataset.ts";
import { decodeImageInto, imageDecoder } from "./image_decode.ts";
import { checkImages, type DecodedShape, type Holdout, holdoutTest } from "./image_folder.ts";
import type { LoadContext } from "./source.ts";
import type { FileRecord } from "./source_file.ts";

/** The columns a parquet dataset reads. */
export interface ParquetColumns {
  image: string;
  label: string;
}

/** A parquet file as hyparquet reads it: positioned reads through Deno, no whole-file buffer. */
function fileBuffer(path: string): AsyncBuffer {
  let size: number;
  try {
    size = Deno.statSync(path).size;
  } catch (e) {
    throw new DataError(path, {}, "a readable parquet file", (e as Error).message);
  }
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      using f = await Deno.open(path, { read: true });
      await f.seek(start, Deno.SeekMode.Start);
      const out = new Uint8Array(end - start);
      for (let got = 0; got < out.length;) {
        const r = await f.read(out.subarray(got));
        if (r === null) {
          throw new DataError(path, { offset: start + got }, `${end - start} bytes`, "end of file");
        }
        got += r;
      }
      return out.buffer;
    },
  };
}

/** sha256 of a file read in 1 MiB pieces (a parquet file may be larger than memory). */
async function hashFile(path: string): Promise<FileRecord> {
  const h = createHash("sha256");
  let bytes = 0;
  try {
    using f = await Deno.open(path, { read: true });
    const buf = new Uint8Array(1 << 20);
    for (let r = await f.read(buf); r !== null; r = await f.read(buf)) {
      h.update(buf.subarray(0, r));
      bytes += r;
    }
  } catch (e) {
    throw new DataError(path, {}, "a readable file", (e as Error).message);
  }
  return { path, sha256: h.digest("hex"), bytes };
}

interface OpenFile {
  path: string;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
  /** First row of each row group, and the file's row count at the end. */
  groupStarts: number[];
}

async function openParquet(path: string, columns: ParquetColumns): Promise<OpenFile> {
  const buffer = fileBuffer(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw new DataError(path, {}, "a parquet file", (e as Error).message);
  }
  const top = parquetSchema(metadata).children.map((c) => c.element.name);
  for (const [role, name] of [["image_column", columns.image], ["label_column", columns.label]] as const) {
    if (!top.includes(name)) {
      throw new DataError(path, { field: role }, `a column "${name}" (the file has ${top.join(", ")})`);
    }
  }
  const groupStarts = [0];
  for (const g of metadata.row_groups) {
    groupStarts.push(groupStarts[groupStarts.length - 1] + Number(g.num_rows));
  }
  return { path, buffer, metadata, groupStarts };
}

/** The encoded image of a row: HF's struct {bytes, path}, or the bytes themselves. */
function imageBytes(value: unknown, file: string, field: string): Uint8Array {
  const v = value !== null && typeof value === "object" && !(value instanceof Uint8Array)
    ? (value as { bytes?: unknown }).bytes
    : value;
  if (v instanceof Uint8Array) return v;
  throw new DataError(
    file,
    { field },
    "the bytes of a PNG or JPEG image",
    v === null || v === undefined ? "none" : typeof v,
  );
}

async function readColumn(
  file: OpenFile,
  column: string,
  rowStart: number,
  rowEnd: number,
): Promise<unknown[]> {
  try {
    const rows = await parquetReadObjects({
      file: file.buffer,
      metadata: file.metadata,
      columns: [column],
      rowStart,
      rowEnd,
      utf8: false,
    });
    return rows.map((r) => (r as Record<string, unknown>)[column]);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(
      file.path,
      { field: `column "${column}"` },
      "a readable column",
      (e as Error).message,
    );
  }
}

/** What a parquet split is, before `finishDecodedImages` applies the split options. */
export interface ParquetSplit {
  raw: RawSplit;
  shape: DecodedShape;
  decodeSource(indices: Int32Array): Promise<Uint8Array>;
}

/** A parquet split as loading checked it: what a run's cell workers are handed instead of reading it again. */
export interface CheckedParquet {
  kind: "parquet";
  records: FileRecord[];
  labels: Int32Array;
  classes: number;
  /** Per row of the split, its file (index in the paths) and its row in that file. */
  fileOf: Int32Array;
  rowOf: Int32Array;
  shape: DecodedShape;
}

/** Calls `use` with the encoded image of each wanted row of the split, reading each needed row group once. */
async function eachImage(
  files: readonly OpenFile[],
  rows: { fileOf: Int32Array; rowOf: Int32Array },
  column: string,
  indices: Int32Array,
  use: (bytes: Uint8Array, position: number, file: string, field: string) => Promise<void>,
): Promise<void> {
  const byGroup = new Map<string, { fi: number; g: number; items: { row: number; position: number }[] }>();
  indices.forEach((index, position) => {
    const fi = rows.fileOf[index], row = rows.rowOf[index];
    const starts = files[fi].groupStarts;
    let g = 0;
    while (starts[g + 1] <= row) g++;
    const key = `${fi}/${g}`;
    if (!byGroup.has(key)) byGroup.set(key, { fi, g, items: [] });
    byGroup.get(key)!.items.push({ row, position });
  });
  for (const { fi, g, items } of byGroup.values()) {
    const f = files[fi], start = f.groupStarts[g];
    const values = await readColumn(f, column, start, f.groupStarts[g + 1]);
    await Promise.all(items.map(({ row, position }) => {
      const field = `image_column "${column}", row ${row}`;
      return use(imageBytes(values[row - start], f.path, field), position, f.path, field);
    }));
  }
}

/** Reads the labels, hashes every file and decodes every image of the split once to check it. */
async function checkParquet(
  files: readonly OpenFile[],
  split: "train" | "test",
  options: { columns: ParquetColumns; classes?: number; holdout?: Holdout; channels?: 1 | 3 },
): Promise<CheckedParquet> {
  const { columns } = options;
  // Every row of the files: its file, its row in that file and its label.
  const fileList: number[] = [], rowList: number[] = [], labelList: number[] = [];
  for (const [fi, f] of files.entries()) {
    const values = await readColumn(f, columns.label, 0, f.groupStarts[f.groupStarts.length - 1]);
    values.forEach((v, row) => {
      const y = typeof v === "bigint" ? Number(v) : v;
      if (typeof y !== "number" || !Number.isInteger(y)) {
        throw new DataError(
          f.path,
          { field: `label_column "${columns.label}", row ${row}` },
          "an integer label",
          String(v),
        );
      }
      fileList.push(fi);
      rowList.push(row);
      labelList.push(y);
    });
  }
  let labels = Int32Array.from(labelList);
  // The split's rows, compactly (a typed array each, not an object per row).
  let fileOf = Int32Array.from(fileList), rowOf = Int32Array.from(rowList);
  const classes = options.classes ?? labels.reduce((a, y) => Math.max(a, y + 1), 0);
  for (const [fi, f] of files.entries()) {
    const offset = fileOf.indexOf(fi);
    checkLabels(labels.subarray(offset, offset + f.groupStarts[f.groupStarts.length - 1]), classes, f.path);
  }
  if (options.holdout) {
    const test = holdoutTest(labels, classes, options.holdout);
    const keep = Int32Array.from(labels.keys()).filter((i) => test.has(i) === (split === "test"));
    [fileOf, rowOf, labels] = [fileOf, rowOf, labels].map((a) => keep.map((i) => a[i]));
  }
  if (labels.length === 0) {
    throw new DataError(files[0]?.path ?? "parquet", {}, `at least one row in the ${split} split`, "none");
  }

  const records: FileRecord[] = [];
  for (const f of files) records.push(await hashFile(f.path));
  // Check every image of the split, one row group at a time.
  const all = Int32Array.from(labels.keys());
  let shape: DecodedShape | undefined;
  let grey = true;
  const perGroup = 256; // encoded images held at once while checking
  for (let i = 0; i < all.length; i += perGroup) {
    const found: { file: string; field: string; bytes: () => Uint8Array }[] = [];
    await eachImage(
      files,
      { fileOf, rowOf },
      columns.image,
      all.subarray(i, i + perGroup),
      (bytes, _p, file, field) => {
        found.push({ file, field, bytes: () => bytes });
        return Promise.resolve();
      },
    );
    const checked = await checkImages(found.length, (j) => found[j], options.channels);
    if (shape && (checked.height !== shape.height || checked.width !== shape.width)) {
      throw new DataError(
        found[0].file,
        { field: found[0].field },
        `a ${shape.height}×${shape.width} image like the split's first (height×width)`,
        `${checked.height}×${checked.width}`,
      );
    }
    shape ??= checked;
    grey &&= checked.channels === 1;
  }
  const decoded: DecodedShape = { ...shape!, channels: options.channels ?? (grey ? 1 : 3) };
  return { kind: "parquet", records, labels, classes, fileOf, rowOf, shape: decoded };
}

/**
 * Reads a split from `paths` (`holdout`: the train or test part of them), labels in
 * 0..classes−1 (`classes` given, or the largest label + 1). A split already in `context.checked`
 * (a cell worker's, handed over by the run) is taken from there, its files' metadata read again
 * but not their rows; one read here is added to it. `context.log` is told which happened.
 */
export async function readParquetSplit(
  paths: readonly string[],
  split: "train" | "test",
  options: { columns: ParquetColumns; classes?: number; holdout?: Holdout; channels?: 1 | 3 },
  context: LoadContext = {},
): Promise<ParquetSplit> {
  const { columns } = options;
  const files: OpenFile[] = [];
  for (const p of paths) files.push(await openParquet(p, columns));
  const key = JSON.stringify([
    "parquet",
    paths,
    split,
    columns,
    options.classes ?? null,
    options.holdout ?? null,
    options.channels ?? null,
  ]);
  const known = context.checked?.get(key);
  let checked = known?.kind === "parquet" ? known : undefined;
  const what = `parquet ${paths.join(", ")} (${split})`;
  if (checked) context.log?.(`${what}: ${checked.labels.length} rows as this run checked them`);
  else {
    checked = await checkParquet(files, split, options);
    context.checked?.set(key, checked);
    context.log?.(`${what}: ${checked.labels.length} rows read, hashed and checked`);
  }
  const { shape } = checked;
  const per = shape.channels * shape.height * shape.width;
  const raw: RawSplit = {
    values: new Uint8Array(0),
    perExample: per,
    labels: checked.labels,
    classes: checked.classes,
    files: checked.records,
    convention: JSON.stringify({
      format: "parquet-images/v1",
      decoder: await imageDecoder(),
      channels: shape.channels,
      columns,
      holdout: options.holdout ?? null,
    }),
  };
  const rows = checked;
  return {
    raw,
    shape,
    async decodeSource(indices) {
      const out = new Uint8Array(indices.length * per);
      await eachImage(
        files,
        rows,
        columns.image,
        indices,
        (bytes, position, file, field) => decodeImageInto(bytes, shape, out, position * per, file, field),
      );
      return out;
    },
  };
}

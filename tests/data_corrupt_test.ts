// Corrupt inputs for the NPY, safetensors, CIFAR and STL-10 readers, each written as a real file
// into a temp dir and read through the public loaders: the error must name the file and the byte
// offset or header field, and what was expected (docs/architecture.md, "bad input").
import { DataError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.ts";
import { loadDataset } from "../src/data/registry.ts";
import { encodeSafetensors } from "../src/data/safetensors.ts";
import type { DataSpec } from "../src/data/registry.ts";

const dir = Deno.makeTempDirSync({ prefix: "invbench_corrupt_" });
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const f32Bytes = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);

/** Writes `files` into a fresh sub-directory and expects loading `spec` to fail naming `file` and `mentions`. */
async function expectFailure(
  name: string,
  files: Record<string, Uint8Array>,
  spec: Omit<DataSpec, "path">,
  file: string,
  ...mentions: string[]
) {
  const sub = join(dir, name);
  Deno.mkdirSync(sub);
  for (const [f, bytes] of Object.entries(files)) Deno.writeFileSync(join(sub, f), bytes);
  await assert.rejects(
    () => loadDataset({ ...spec, path: sub } as DataSpec, "train"),
    (e) => {
      assert.ok(e instanceof DataError, `expected DataError, got ${e}`);
      assert.ok(e.message.includes(join(sub, file)), `"${e.message}" should name ${join(sub, file)}`);
      for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" should mention "${m}"`);
      return true;
    },
  );
}

const goodLabels = encodeNpy("<i8", [2], new Uint8Array(BigInt64Array.from([0n, 1n]).buffer));
const goodFeatures = encodeNpy("<f4", [2, 2], f32Bytes([1, 2, 3, 4]));

Deno.test("npy: wrong dtype names header.descr", async () => {
  await expectFailure(
    "npy_dtype",
    {
      "train_features.npy": encodeNpy("<f8", [2, 2], new Uint8Array(32)),
      "train_labels.npy": goodLabels,
    },
    { source: "npy" },
    "train_features.npy",
    "header.descr",
    "'<f4'",
    "got '<f8'",
    "byte 10",
  );
  await expectFailure(
    "npy_be",
    {
      "train_features.npy": encodeNpy(">f4", [2, 2], new Uint8Array(16)),
      "train_labels.npy": goodLabels,
    },
    { source: "npy" },
    "train_features.npy",
    "header.descr",
    "little-endian",
  );
  await expectFailure(
    "npy_label_dtype",
    {
      "train_features.npy": goodFeatures,
      "train_labels.npy": encodeNpy("<f4", [2], f32Bytes([0, 1])),
    },
    { source: "npy" },
    "train_labels.npy",
    "header.descr",
    "integer label dtype",
  );
});

Deno.test("npy: fortran order names header.fortran_order", async () => {
  await expectFailure(
    "npy_fortran",
    {
      "train_features.npy": encodeNpy("<f4", [2, 2], f32Bytes([1, 2, 3, 4]), true),
      "train_labels.npy": goodLabels,
    },
    { source: "npy" },
    "train_features.npy",
    "header.fortran_order",
    "C order",
  );
});

Deno.test("npy: truncated data names the data offset and the size the shape implies", async () => {
  const full = goodFeatures;
  await expectFailure(
    "npy_truncated",
    {
      "train_features.npy": full.subarray(0, full.length - 3),
      "train_labels.npy": goodLabels,
    },
    { source: "npy" },
    "train_features.npy",
    "16 data bytes for shape (2, 2)",
    "got 13 (truncated)",
    "byte 141",
  );
  await expectFailure(
    "npy_header_cut",
    { "train_features.npy": full.subarray(0, 40), "train_labels.npy": goodLabels },
    { source: "npy" },
    "train_features.npy",
    "byte 10",
    "header",
    "truncated",
  );
  const magic = full.slice();
  magic[1] = 0x50;
  await expectFailure(
    "npy_magic",
    { "train_features.npy": magic, "train_labels.npy": goodLabels },
    { source: "npy" },
    "train_features.npy",
    "byte 0",
    "magic",
  );
});

Deno.test("npy: wrong rank, and feature/label count mismatch", async () => {
  await expectFailure(
    "npy_rank",
    {
      "train_features.npy": encodeNpy("<f4", [4], f32Bytes([1, 2, 3, 4])),
      "train_labels.npy": goodLabels,
    },
    { source: "npy" },
    "train_features.npy",
    "header.shape",
    "2-D",
  );
  await expectFailure(
    "npy_count",
    {
      "train_features.npy": encodeNpy("<f4", [3, 1], f32Bytes([1, 2, 3])),
      "train_labels.npy": goodLabels,
    },
    { source: "npy" },
    "train_labels.npy",
    "3 labels",
    "got 2",
  );
});

/** A valid two-tensor safetensors file, then `edit` applied to its header JSON. */
function safetensorsWith(
  edit: (h: Record<string, { data_offsets: number[]; dtype: string; shape: number[] }>) => void,
  cut = 0,
): Uint8Array {
  const good = encodeSafetensors({
    features: { dtype: "F32", shape: [2, 2], bytes: f32Bytes([1, 2, 3, 4]) },
    labels: { dtype: "U8", shape: [2], bytes: new Uint8Array([0, 1]) },
  });
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
  edit(header);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const data = good.subarray(8 + n, good.length - cut);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

Deno.test("safetensors: bad header length and bad JSON name byte 0 / byte 8", async () => {
  const big = safetensorsWith(() => {});
  new DataView(big.buffer).setBigUint64(0, 1n << 40n, true);
  await expectFailure(
    "st_len",
    { "train.safetensors": big },
    { source: "safetensors" },
    "train.safetensors",
    "byte 0",
    "header length",
    "1099511627776",
  );
  const junk = safetensorsWith(() => {});
  junk[8] = "[".charCodeAt(0);
  junk[9] = "}".charCodeAt(0);
  await expectFailure(
    "st_json",
    { "train.safetensors": junk },
    { source: "safetensors" },
    "train.safetensors",
    "byte 8",
    "header JSON",
  );
  await expectFailure(
    "st_short",
    { "train.safetensors": new Uint8Array(5) },
    { source: "safetensors" },
    "train.safetensors",
    "byte 0",
    "8-byte header length",
  );
});

Deno.test("safetensors: offsets out of range, of the wrong size, overlapping, and a truncated buffer", async () => {
  await expectFailure(
    "st_range",
    {
      "train.safetensors": safetensorsWith((h) => h.labels.data_offsets = [16, 99]),
    },
    { source: "safetensors" },
    "train.safetensors",
    'header["labels"].data_offsets',
    "end ≤ 18",
    "got 99",
  );
  await expectFailure(
    "st_size",
    {
      "train.safetensors": safetensorsWith((h) => h.features.shape = [2, 3]),
    },
    { source: "safetensors" },
    "train.safetensors",
    'header["features"].data_offsets',
    "24 bytes for F32 shape [2, 3]",
    "got 16",
  );
  await expectFailure(
    "st_overlap",
    {
      "train.safetensors": safetensorsWith((h) => {
        h.labels.data_offsets = [14, 16];
      }),
    },
    { source: "safetensors" },
    "train.safetensors",
    'header["labels"].data_offsets',
    "begin 16",
    "no holes or overlaps",
  );
  await expectFailure(
    "st_truncated",
    {
      "train.safetensors": safetensorsWith(() => {}, 1),
    },
    { source: "safetensors" },
    "train.safetensors",
    'header["labels"].data_offsets',
    "end ≤ 17",
    "truncated",
  );
  await expectFailure(
    "st_reversed",
    {
      "train.safetensors": safetensorsWith((h) => h.features.data_offsets = [16, 0]),
    },
    { source: "safetensors" },
    "train.safetensors",
    'header["features"].data_offsets',
    "begin ≤ end",
  );
});

Deno.test("safetensors: missing tensor and wrong dtype are named", async () => {
  await expectFailure(
    "st_missing",
    { "train.safetensors": safetensorsWith(() => {}) },
    { source: "safetensors", tensors: { features: "feats" } },
    "train.safetensors",
    'tensor "feats"',
    '["features","labels"]',
  );
  await expectFailure(
    "st_dtype",
    {
      "train.safetensors": safetensorsWith((h) => {
        h.features.dtype = "I32";
      }),
    },
    { source: "safetensors" },
    "train.safetensors",
    'header["features"].dtype',
    "F32",
    "got I32",
  );
  await expectFailure(
    "st_bad_dtype",
    {
      "train.safetensors": safetensorsWith((h) => {
        h.features.dtype = "F33";
      }),
    },
    { source: "safetensors" },
    "train.safetensors",
    'header["features"].dtype',
    '"F33"',
  );
});

Deno.test("cifar: file size not a multiple of the record, and bad labels", async () => {
  const rec = (y: number[]) => new Uint8Array([...y, ...new Uint8Array(3072)]);
  const batches = (first: Uint8Array) =>
    Object.fromEntries([1, 2, 3, 4, 5].map((b) => [`data_batch_${b}.bin`, b === 3 ? first : rec([1])]));
  await expectFailure(
    "cifar_size",
    batches(new Uint8Array([...rec([1]), ...rec([2]).subarray(0, 1000)])),
    { source: "cifar10" },
    "data_batch_3.bin",
    "3073-byte record",
    "file size",
    "byte 3073",
    "1 records + 1000 bytes",
  );
  await expectFailure(
    "cifar_label",
    batches(new Uint8Array([...rec([1]), ...rec([10])])),
    { source: "cifar10" },
    "data_batch_3.bin",
    "byte 3073",
    "record 1 label",
    "0..9",
    "got 10",
  );
  await expectFailure(
    "cifar100_size",
    { "train.bin": rec([1, 2, 3]) },
    { source: "cifar100" },
    "train.bin",
    "3074-byte record",
    "byte 3074",
    "1 records + 1 bytes",
  );
  await expectFailure(
    "cifar100_label",
    { "train.bin": rec([1, 100]) },
    { source: "cifar100" },
    "train.bin",
    "byte 1",
    "0..99",
    "got 100",
  );
  await expectFailure(
    "cifar_empty",
    batches(new Uint8Array()),
    { source: "cifar10" },
    "data_batch_3.bin",
    "positive multiple",
  );
});

Deno.test("stl10: sizes not a multiple of the image, label count and values", async () => {
  const img = 3 * 96 * 96;
  await expectFailure(
    "stl_size",
    { "train_X.bin": new Uint8Array(img + 5), "train_y.bin": new Uint8Array([1]) },
    { source: "stl10" },
    "train_X.bin",
    "27648-byte image",
    "byte 27648",
    "1 images + 5 bytes",
  );
  await expectFailure(
    "stl_count",
    { "train_X.bin": new Uint8Array(2 * img), "train_y.bin": new Uint8Array([1]) },
    { source: "stl10" },
    "train_y.bin",
    "2 label bytes",
    "label count",
    "got 1",
  );
  await expectFailure(
    "stl_label",
    { "train_X.bin": new Uint8Array(2 * img), "train_y.bin": new Uint8Array([1, 0]) },
    { source: "stl10" },
    "train_y.bin",
    "byte 1",
    "1..10",
    "got 0",
  );
});

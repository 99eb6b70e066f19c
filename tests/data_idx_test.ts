// IDX reader: every element type and rank round-trips, decoding is big-endian, and each kind of
// corrupt file (written for real into a temp dir, several cut from the real MNIST files) fails
// with an error naming the file and the byte offset or field.
import { DataError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeIdx, type IdxDType, parseIdx, readIdx } from "../src/data/idx.ts";
import { gzipSync } from "node:zlib";
import { IDX_FILES, mnistDataDir, readIdxDir, readIdxPair } from "../src/data/mnist.ts";
import { sha256Hex } from "../src/util/hash.ts";

/** Asserts fn throws a DataError whose message names `file` and each of `mentions`. */
function assertDataError(fn: () => unknown, file: string, ...mentions: string[]): DataError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
  assert.ok(err.message.includes(file), `"${err.message}" should name ${file}`);
  for (const m of mentions) assert.ok(err.message.includes(m), `"${err.message}" should mention "${m}"`);
  return err;
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "invbench_idx_" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("idx: every dtype and rank round-trips", () => {
  const cases: [IdxDType, number[]][] = [
    ["uint8", [3, 2, 2]],
    ["int8", [5]],
    ["int16", [2, 3]],
    ["int32", [2, 1, 2, 2]],
    ["float32", [4, 2]],
    ["float64", [1, 2, 3, 1, 2]],
  ];
  for (const [dtype, dims] of cases) {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = Array.from(
      { length: n },
      (_, i) => (dtype === "uint8" ? i * 7 : dtype.startsWith("float") ? (i - 3) * 0.25 : i - 3),
    );
    const arr = parseIdx(encodeIdx(dtype, dims, values), `t.${dtype}`);
    assert.equal(arr.dtype, dtype);
    assert.deepEqual(arr.dims, dims);
    assert.deepEqual(Array.from(arr.data), values);
  }
});

Deno.test("idx: elements are big-endian", () => {
  const bytes = new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
  assert.deepEqual(Array.from(parseIdx(bytes, "be").data), [258, -2]);
  const f = new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0]);
  assert.deepEqual(Array.from(parseIdx(f, "bef").data), [1]);
});

Deno.test("idx: real MNIST test files parse with the documented header", () => {
  const dir = mnistDataDir();
  const images = readIdx(join(dir, IDX_FILES.test.images));
  assert.equal(images.dtype, "uint8");
  assert.deepEqual(images.dims, [10000, 28, 28]);
  assert.equal(images.file.bytes, 16 + 10000 * 784);
  const labels = readIdx(join(dir, IDX_FILES.test.labels));
  assert.deepEqual(labels.dims, [10000]);
});

Deno.test("idx: wrong magic names the file and bytes 0-1", () => {
  withTempDir((dir) => {
    const bytes = Deno.readFileSync(join(mnistDataDir(), IDX_FILES.test.labels));
    bytes[0] = 0x1f; // e.g. a gzip file given without .gz
    const path = join(dir, "labels-bad-magic");
    Deno.writeFileSync(path, bytes);
    assertDataError(() => readIdx(path), path, "byte 0", "magic", "0x0000");
  });
});

Deno.test("idx: unknown type code names byte 2", () => {
  const bytes = encodeIdx("uint8", [2], [1, 2]);
  bytes[2] = 0x0a;
  assertDataError(() => parseIdx(bytes, "code.idx"), "code.idx", "byte 2", "type code", "0x0a");
});

Deno.test("idx: truncated data and truncated header name the size the header implies", () => {
  withTempDir((dir) => {
    const full = Deno.readFileSync(join(mnistDataDir(), IDX_FILES.test.images));
    const path = join(dir, "t10k-images-truncated");
    Deno.writeFileSync(path, full.subarray(0, full.length - 1000));
    const e = assertDataError(
      () => readIdx(path),
      path,
      "7840016 bytes",
      "7839016 bytes",
      "truncated",
      "byte 7839016",
    );
    assert.equal(e.offset, 7839016);
    const head = join(dir, "t10k-images-header-only");
    Deno.writeFileSync(head, full.subarray(0, 10));
    assertDataError(() => readIdx(head), head, "16-byte header", "byte 10");
  });
});

Deno.test("idx: trailing bytes are an error, not ignored", () => {
  const bytes = new Uint8Array([...encodeIdx("uint8", [2], [1, 2]), 9, 9]);
  assertDataError(() => parseIdx(bytes, "long.idx"), "long.idx", "2 trailing bytes", "byte 10");
});

Deno.test("idx: label count mismatch vs images names the labels file and dims[0]", () => {
  withTempDir((dir) => {
    const src = Deno.readFileSync(join(mnistDataDir(), IDX_FILES.test.labels));
    // A consistent IDX file with one label fewer: header says 9999 and so does the size.
    const short = src.slice(0, src.length - 1);
    new DataView(short.buffer).setUint32(4, 9999, false);
    const path = join(dir, "t10k-labels-9999");
    Deno.writeFileSync(path, short);
    assert.deepEqual(readIdx(path).dims, [9999]);
    const images = join(mnistDataDir(), IDX_FILES.test.images);
    assertDataError(
      () => readIdxPair(images, path, 10),
      path,
      "byte 4",
      "dims[0]",
      "10000 labels",
      "got 9999",
    );
  });
});

Deno.test("idx: out-of-range label names its byte offset", () => {
  withTempDir((dir) => {
    const img = join(dir, "img"), lab = join(dir, "lab");
    Deno.writeFileSync(img, encodeIdx("uint8", [3, 2, 2], new Array(12).fill(0)));
    Deno.writeFileSync(lab, encodeIdx("uint8", [3], [1, 12, 0]));
    assertDataError(() => readIdxPair(img, lab, 10), lab, "byte 9", "label 1", "0..9");
  });
});

Deno.test("idx: missing file is named", () => {
  assertDataError(() => readIdx("/nonexistent/idx-file"), "/nonexistent/idx-file", "readable file");
});

Deno.test("idx: a .gz twin is found and gunzipped; its hash is of the stored bytes", () => {
  withTempDir((dir) => {
    const img = encodeIdx("uint8", [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const gz = gzipSync(img);
    Deno.writeFileSync(join(dir, `${IDX_FILES.test.images}.gz`), gz);
    Deno.writeFileSync(join(dir, IDX_FILES.test.labels), encodeIdx("uint8", [2], [3, 1]));
    const { raw } = readIdxDir(dir, "test");
    assert.deepEqual(Array.from(raw.values), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(raw.files[0].path, join(dir, `${IDX_FILES.test.images}.gz`));
    assert.equal(raw.files[0].sha256, sha256Hex(new Uint8Array(gz)));
    const bad = join(dir, "broken.gz");
    Deno.writeFileSync(bad, new Uint8Array(gz).subarray(0, 10));
    assertDataError(() => readIdx(bad), bad, "byte 0", "gzip stream");
  });
});

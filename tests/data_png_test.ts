// The PNG encoder: CRC-32 against the standard check value, and written files that decode
// (signature, IHDR, CRCs, IDAT inflating to exactly height·(1 + width·channels) bytes).
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { crc32, encodePng, inspectPng } from "../src/data/png.ts";

Deno.test("png: crc32 check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
});

Deno.test("png: grey and RGB images decode to their pixels", () => {
  for (const channels of [1, 3, 4] as const) {
    const width = 5, height = 3;
    const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37) % 256);
    const png = encodePng({ width, height, channels, data });
    // Signature and IHDR read by hand, independently of inspectPng.
    assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
    const v = new DataView(png.buffer);
    assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
    assert.deepEqual([v.getUint32(16), v.getUint32(20), png[24], png[25]], [
      width,
      height,
      8,
      { 1: 0, 3: 2, 4: 6 }[channels],
    ]);
    const info = inspectPng(png);
    assert.deepEqual(info.chunks, ["IHDR", "IDAT", "IEND"]);
    assert.equal(info.raw.length, height * (1 + width * channels));
    for (let y = 0; y < height; y++) {
      const row = info.raw.subarray(y * (1 + width * channels), (y + 1) * (1 + width * channels));
      assert.equal(row[0], 0, "filter type 0");
      assert.deepEqual(row.subarray(1), data.subarray(y * width * channels, (y + 1) * width * channels));
    }
    // The IDAT payload alone also inflates with plain zlib.
    const idatLen = v.getUint32(33);
    assert.equal(inflateSync(png.subarray(41, 41 + idatLen)).length, height * (1 + width * channels));
  }
});

Deno.test("png: a corrupted byte fails the CRC check with its offset", () => {
  const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array([0, 64, 128, 255]) });
  png[20] ^= 1; // inside IHDR's data
  assert.throws(() => inspectPng(png, "x.png"), /x\.png \(byte 29\): IHDR CRC mismatch/);
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }), /expected 4/);
});

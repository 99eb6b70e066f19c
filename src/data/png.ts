/**
 * A minimal PNG encoder (8-bit greyscale, RGB or RGBA, no interlace, filter 0 on every row) for
 * previews: enough for any viewer, with node:zlib doing the deflate and a table CRC-32 for the
 * chunk checksums (PNG spec, ISO/IEC 15948).
 */
import { deflateSync, inflateSync } from "node:zlib";

/** An 8-bit image, rows top to bottom, channels interleaved (HWC). */
export interface PngImage {
  width: number;
  height: number;
  /** 1 grey, 3 RGB, 4 RGBA. */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309 / PNG) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const PNG_SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One chunk: length, type, data, CRC over type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes an 8-bit image as PNG bytes. */
export function encodePng(img: PngImage): Uint8Array {
  const { width, height, channels, data } = img;
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `encodePng: ${data.length} bytes for ${width}×${height}×${channels}: expected ${
        width * height * channels
      }`,
    );
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = { 1: 0, 3: 2, 4: 6 }[channels]; // colour type
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1)); // each row: filter byte 0, then pixels
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [
    PNG_SIGNATURE,
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

/** What `inspectPng` finds in a PNG file. */
export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  /** The inflated IDAT stream: height rows of (1 filter byte + width·channels bytes) at 8 bits. */
  raw: Uint8Array;
  chunks: string[];
}

/**
 * Checks a PNG's structure (signature, chunk CRCs, IHDR first, IEND last) and inflates its image
 * data; throws naming the byte offset of the first problem. Used to verify written previews.
 */
export function inspectPng(bytes: Uint8Array, name = "png"): PngInfo {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${name} (byte 0): expected the PNG signature`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: string[] = [], idat: Uint8Array[] = [];
  let at = 8, ihdr: Uint8Array | undefined;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) {
      throw new Error(`${name} (byte ${at}): expected a 12-byte chunk frame, file ends`);
    }
    const len = view.getUint32(at);
    if (at + 12 + len > bytes.length) {
      throw new Error(`${name} (byte ${at}): chunk of ${len} bytes runs past the end`);
    }
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const crc = view.getUint32(at + 8 + len);
    if (crc32(bytes.subarray(at + 4, at + 8 + len)) !== crc) {
      throw new Error(`${name} (byte ${at + 8 + len}): ${type} CRC mismatch`);
    }
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") ihdr = data;
    if (type === "IDAT") idat.push(data);
    chunks.push(type);
    at += 12 + len;
  }
  if (chunks[0] !== "IHDR" || !ihdr || ihdr.length !== 13) {
    throw new Error(`${name} (byte 8): expected a 13-byte IHDR first`);
  }
  if (chunks[chunks.length - 1] !== "IEND") throw new Error(`${name}: expected IEND last`);
  const iv = new DataView(ihdr.buffer, ihdr.byteOffset, 13);
  const joined = new Uint8Array(idat.reduce((a, c) => a + c.length, 0));
  let k = 0;
  for (const c of idat) {
    joined.set(c, k);
    k += c.length;
  }
  return {
    width: iv.getUint32(0),
    height: iv.getUint32(4),
    bitDepth: ihdr[8],
    colourType: ihdr[9],
    raw: new Uint8Array(inflateSync(joined)),
    chunks,
  };
}

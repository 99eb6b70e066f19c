/**
 * Decoding PNG and JPEG files through `sharp` (libvips): what the image-folder and parquet sources
 * read. An image becomes 8-bit CHW with 1 channel (greyscale: grey PNGs and JPEGs as stored, colour
 * ones by libvips' sRGB → B_W luminance) or 3 (sRGB: grey images replicated); alpha is dropped, as
 * PIL's `convert("RGB")` does. Any libvips warning (a truncated JPEG, a bad CRC) is an error: a
 * half-decoded image must not become features.
 */
import type { Metadata, OutputInfo } from "sharp";
import { DataError } from "../errors.ts";

// Loaded on first use: only datasets that decode files pay for libvips (and a platform without its
// prebuilt binary fails there, naming it, not in every command).
let loaded: Promise<typeof import("sharp").default> | undefined;
function sharpModule(): Promise<typeof import("sharp").default> {
  return loaded ??= import("sharp").then((m) => m.default).catch((e) => {
    loaded = undefined;
    throw new DataError(
      "sharp",
      {},
      "the sharp package (npm install) to decode PNG and JPEG files",
      (e as Error).message,
    );
  });
}

/** The decoder and its version: part of a decoded dataset's content hash (pixels depend on it). */
export async function imageDecoder(): Promise<string> {
  const sharp = await sharpModule();
  return `sharp ${sharp.versions.sharp} libvips ${sharp.versions.vips}`;
}

/** What a file holds, from its header. */
export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
  /** 1 when the image is greyscale (with or without alpha), else 3. */
  channels: 1 | 3;
}

const FORMATS = new Set(["png", "jpeg"]);

function failure(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** The header of a PNG or JPEG held in `bytes`; `file` (and `field`) name it in errors. */
export async function imageHeader(bytes: Uint8Array, file: string, field?: string): Promise<ImageHeader> {
  const sharp = await sharpModule();
  let m: Metadata;
  try {
    m = await sharp(bytes).metadata();
  } catch (e) {
    throw new DataError(file, { field }, "a PNG or JPEG image", failure(e));
  }
  if (!m.format || !FORMATS.has(m.format)) {
    throw new DataError(file, { field }, "a PNG or JPEG image", `${m.format ?? "an unknown"} format`);
  }
  const grey = m.channels === 1 || m.channels === 2 || m.space === "b-w" || m.space === "grey16";
  return { format: m.format as "png" | "jpeg", width: m.width!, height: m.height!, channels: grey ? 1 : 3 };
}

/**
 * Decodes a PNG or JPEG into `out` at `offset` as CHW uint8 with `channels` channels; the image must
 * be `height`×`width` (an image of another size is an error naming the file).
 */
export async function decodeImageInto(
  bytes: Uint8Array,
  shape: { channels: 1 | 3; height: number; width: number },
  out: Uint8Array,
  offset: number,
  file: string,
  field?: string,
): Promise<void> {
  const { channels, height, width } = shape;
  const sharp = await sharpModule();
  let data: Uint8Array, info: OutputInfo;
  try {
    let img = sharp(bytes, { failOn: "warning" }).removeAlpha();
    img = channels === 1 ? img.toColourspace("b-w") : img.toColourspace("srgb");
    ({ data, info } = await img.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new DataError(file, { field }, "a decodable PNG or JPEG image", failure(e));
  }
  if (info.width !== width || info.height !== height) {
    throw new DataError(
      file,
      { field: field ?? "size" },
      `a ${height}×${width} image like the dataset's first (height×width)`,
      `${info.height}×${info.width}`,
    );
  }
  if (info.channels !== channels) {
    throw new DataError(file, { field }, `${channels} channel(s) after conversion`, `${info.channels}`);
  }
  // HWC (interleaved) → CHW planes.
  const plane = height * width;
  if (channels === 1) out.set(data.subarray(0, plane), offset);
  else {
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < channels; c++) out[offset + c * plane + i] = data[i * channels + c];
    }
  }
}

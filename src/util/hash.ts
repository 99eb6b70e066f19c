/** sha256, the one hash invbench uses (cell ids, file records, cache keys, model fingerprints). */
import { createHash } from "node:crypto";

/** sha256 of `data` (bytes, or a string as UTF-8) as 64 lowercase hex digits. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of `data` as its 32 bytes. */
export function sha256Bytes(data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

/** sha256 and size of a file, read in chunks (an external-data model's weights can be gigabytes). */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash("sha256");
  let bytes = 0;
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 22);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
    bytes += n;
  }
  return { sha256: h.digest("hex"), bytes };
}

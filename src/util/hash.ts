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

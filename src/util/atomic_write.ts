/**
 * Writing a file so that a reader sees the whole of it or nothing, even across a crash: the bytes go
 * to a temp file `.<name>.<pid>-<random>.tmp` in the same directory, are synced, and the temp file
 * is renamed over `name`; then the directory is synced so the rename itself is durable.
 */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { randomBytes } from "node:crypto";

/** The suffix of temp files; a directory's owner may remove `.*.tmp` files that a crash left. */
export const TEMP_EXT = ".tmp";

/** fsync of a directory (a no-op where the platform cannot open directories). */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Not supported here (e.g. Windows); the rename is still atomic.
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch { /* ignore */ }
    }
  }
}

/** Writes `data` (bytes, or a string as UTF-8) to `dir/name` atomically, creating `dir`. */
export async function atomicWrite(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await Deno.mkdir(dir, { recursive: true });
  const temp = `${dir}/.${name}.${Deno.pid}-${randomBytes(6).toString("hex")}${TEMP_EXT}`;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, `${dir}/${name}`);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
  fsyncDir(dir);
}

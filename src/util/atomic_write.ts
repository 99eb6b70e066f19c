/**
 * Writing a file so that a reader sees the whole of it or nothing, even across a crash: the bytes go
 * to a temp file `.<name>.<host tag>.<pid>-<random>.tmp` in the same directory, are synced, and the temp file
 * is renamed over `name`; then the directory is synced so the rename itself is durable.
 */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";

/** The suffix of temp files; a directory's owner may remove `.*.tmp` files that a crash left. */
export const TEMP_EXT = ".tmp";

/**
 * This machine in temp names: 8 hex digits of the hostname's sha256. Directories shared by several
 * nodes (a feature cache on a network filesystem) hold other nodes' temp files, whose pids mean
 * nothing here; cleaning up looks only at temp files of its own host.
 */
export const TEMP_HOST_TAG: string = (() => {
  let host = "";
  try {
    host = Deno.hostname();
  } catch {
    // No --allow-sys: every writer of this process shares the empty host's tag.
  }
  return createHash("sha256").update(host).digest("hex").slice(0, 8);
})();

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

/**
 * Writes `data` (bytes, or a string as UTF-8) to `dir/name` atomically, creating `dir`. With
 * `noOverwrite`, an existing `dir/name` is never replaced: the temp file is hard-linked to the name
 * (which fails with Deno.errors.AlreadyExists when it exists) instead of renamed over it.
 */
export async function atomicWrite(
  dir: string,
  name: string,
  data: Uint8Array | string,
  options: { noOverwrite?: boolean } = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await atomicWriteWith(dir, name, (file) => writeAll(file, bytes), options);
}

/** Writes all of `bytes` at the file's position. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/**
 * `atomicWrite` for content written piece by piece (more than should be held in memory): `write`
 * fills the temp file, which is then synced and renamed over (or, with `noOverwrite`, linked to)
 * `dir/name`.
 */
export async function atomicWriteWith(
  dir: string,
  name: string,
  write: (file: Deno.FsFile) => Promise<void>,
  options: { noOverwrite?: boolean } = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const temp = `${dir}/.${name}.${TEMP_HOST_TAG}.${Deno.pid}-${randomBytes(6).toString("hex")}${TEMP_EXT}`;
  try {
    const file = await Deno.open(temp, { write: true, read: true, createNew: true });
    try {
      await write(file);
      await file.sync();
    } finally {
      file.close();
    }
    if (options.noOverwrite) {
      await Deno.link(temp, `${dir}/${name}`);
      await Deno.remove(temp);
    } else await Deno.rename(temp, `${dir}/${name}`);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
  fsyncDir(dir);
}

/** Positioned reads of an open file (Deno has no pread: a seek, then reads until the range is filled). */

/** Fills `bytes` from `file` at byte `position`; `path` names the file when it ends too soon. */
export function readAt(file: Deno.FsFile, bytes: Uint8Array, position: number, path: string): void {
  file.seekSync(position, Deno.SeekMode.Start);
  for (let got = 0; got < bytes.length;) {
    const r = file.readSync(bytes.subarray(got));
    if (r === null) throw new RangeError(`${path}: ends before byte ${position + bytes.length}`);
    got += r;
  }
}

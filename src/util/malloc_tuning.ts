/**
 * The C heap under a parallel run, where it is glibc's (Linux; elsewhere, or without --allow-ffi,
 * these do nothing). Typed arrays live in malloc's memory: with the default settings each thread
 * that allocates gets its own 64 MiB arena, a freed 4 MiB step buffer raises the mmap threshold so
 * the next ones stay in those arenas, and the freed memory stays mapped, so a run's resident
 * memory grew with every cell its workers computed. Values never depend on these settings.
 */

type Libc = { mallopt(param: number, value: number): number; malloc_trim(pad: bigint): number };

const M_MMAP_THRESHOLD = -3, M_ARENA_MAX = -8;
let libc: Libc | null | undefined;

function load(): Libc | null {
  if (Deno.build.os !== "linux") return null;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  try {
    return Deno.dlopen("libc.so.6", {
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
      malloc_trim: { parameters: ["usize"], result: "i32" },
    }).symbols;
  } catch {
    return null; // not glibc
  }
}

function lib(): Libc | null {
  if (libc === undefined) libc = load();
  return libc;
}

/**
 * Before threads start: at most two arenas, and arrays of 128 KiB or more mapped on their own
 * (returned to the system when freed) instead of after a threshold that grows with each free.
 */
export function boundMallocArenas(): void {
  const c = lib();
  if (!c) return;
  c.mallopt(M_ARENA_MAX, 2);
  c.mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

/** Returns the C heap's free memory to the system (`malloc_trim(0)`). */
export function releaseFreeMemory(): void {
  lib()?.malloc_trim(0n);
}

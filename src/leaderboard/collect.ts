/**
 * Which files a build reads: each path given is a result file or a directory searched
 * recursively for *.json. A directory holding a built site (it has the site marker) is skipped,
 * so a site written inside a submissions directory is never read back as submissions.
 */
import { basename, join, relative } from "node:path";

/** The file a built site carries at its root. */
export const SITE_MARKER = ".invbench-leaderboard";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function walk(dir: string, out: string[]): Promise<void> {
  if (await isFile(join(dir, SITE_MARKER))) return;
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const path = join(dir, e.name);
    if (e.isDirectory) await walk(path, out);
    else if (e.isFile && e.name.endsWith(".json")) out.push(path);
  }
}

export interface SubmissionFile {
  /** The path to read. */
  path: string;
  /** What the public site calls it: the path below the directory given, or the file's name. */
  label: string;
}

/** The submission files under `paths`, in a stable order (missing paths are an error). */
export async function collectSubmissionFiles(paths: readonly string[]): Promise<SubmissionFile[]> {
  const out = new Map<string, SubmissionFile>();
  for (const p of paths) {
    const info = await Deno.stat(p).catch(() => null);
    if (!info) throw new Deno.errors.NotFound(`${p}: no such file or directory (--submissions)`);
    if (info.isDirectory) {
      const found: string[] = [];
      await walk(p, found);
      for (const f of found) if (!out.has(f)) out.set(f, { path: f, label: relative(p, f) });
    } else if (!out.has(p)) out.set(p, { path: p, label: basename(p) });
  }
  return [...out.values()];
}

/** Which harness produced a result: its version, git commit and whether the tree was dirty. */
import { fileURLToPath } from "node:url";

/** The project root (where package.json lives). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

export interface HarnessInfo {
  version: string;
  commit: string;
  dirty: boolean;
}

async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, cwd: PROJECT_ROOT, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // git missing or no permission: the result says "unknown"
  }
}

export async function harnessInfo(): Promise<HarnessInfo> {
  const pkg = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/package.json`)) as { version: string };
  const commit = await git(["rev-parse", "HEAD"]);
  // Run directories and caches are ignored by git, so they do not make the tree dirty.
  const status = await git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    version: pkg.version,
    commit: commit ?? "unknown",
    dirty: status === null ? true : status.length > 0,
  };
}

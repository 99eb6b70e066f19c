/**
 * The WGSL sources of the WebGPU backend's kernels (kernels/*.wgsl), read once per backend.
 */
import { KERNELS } from "./kernels.ts";

/** A line `// #include name.wgsl`: WGSL has no includes, so the loader splices the file in. */
const INCLUDE = /^\/\/ #include ([a-z_]+\.wgsl)$/gm;

/** The WGSL sources of every kernel, read from kernels/, with their includes spliced in. */
export async function kernelSources(): Promise<Map<string, string>> {
  const read = (file: string) => Deno.readTextFile(new URL(`../../../../kernels/${file}`, import.meta.url));
  const files = [...new Set(Object.values(KERNELS).map((k) => k.file))];
  const sources = new Map<string, string>();
  await Promise.all(files.map(async (file) => {
    const source = await read(file);
    const included = new Map<string, string>();
    for (const [, name] of source.matchAll(INCLUDE)) included.set(name, await read(name));
    sources.set(file, source.replace(INCLUDE, (_, name: string) => included.get(name)!));
  }));
  return sources;
}

/**
 * The layering and the one-source-of-truth rules of docs/architecture.md, checked on the source
 * tree itself: which folder may import which, and each component's name written in one file.
 */
import assert from "node:assert/strict";
import { dirname, relative, resolve } from "node:path";
import { AUGMENTATIONS } from "../src/augment/spec.ts";
import { DATA_SOURCES } from "../src/data/registry.ts";
import { LOSSES } from "../src/methods/losses/index.ts";
import { METHODS } from "../src/methods/registry.ts";
import { cli, ROOT } from "./fixtures/harness.ts";

const SRC = `${ROOT}/src`;

async function sourceFiles(dir = SRC): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sourceFiles(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

/** The files a module imports at run time (type-only imports are erased and left out). */
function runtimeImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?"(\.[^"]+)";/gms)) {
    if (m[2]) continue;
    out.push(relative(SRC, resolve(dirname(file), m[3])));
  }
  return out;
}

const FILES = await sourceFiles();
const TEXT = new Map(await Promise.all(FILES.map(async (f) => [f, await Deno.readTextFile(f)] as const)));

Deno.test("architecture: the matrix, catalog, util and error layers import no component code", () => {
  // Lower layers: they may import each other and npm packages, nothing above them.
  const lower = (p: string) =>
    p.startsWith("matrix/") || p.startsWith("catalog/") || p.startsWith("util/") || p === "errors.ts";
  let checked = 0;
  for (const [file, text] of TEXT) {
    const rel = relative(SRC, file);
    if (!lower(rel)) continue;
    for (const imported of runtimeImports(file, text)) {
      assert.ok(lower(imported), `${rel} imports ${imported}, a layer above it (docs/architecture.md)`);
      checked++;
    }
  }
  assert.ok(checked > 3, "the import scan found the lower layers' imports");
});

Deno.test("architecture: each loss and method kind is named in one file", () => {
  // "none" is also a value of other fields (a backbone's `resize: none`), so it is left out.
  const names = [...LOSSES.names, ...METHODS.names].filter((n) => n !== "none");
  assert.ok(names.includes("vicreg") && names.includes("tta"));
  for (const name of names) {
    const files = FILES.filter((f) => TEXT.get(f)!.includes(`"${name}"`)).map((f) => relative(SRC, f));
    assert.equal(files.length, 1, `"${name}" is written in ${files.join(", ")}`);
  }
});

Deno.test("architecture: no file under src/tensor/backends is over 400 lines", () => {
  const backends = FILES.filter((f) => relative(SRC, f).startsWith("tensor/backends/"));
  assert.ok(backends.length >= 8, backends.join(", "));
  for (const f of backends) {
    const lines = TEXT.get(f)!.split("\n").length - 1;
    assert.ok(lines <= 400, `${relative(SRC, f)} has ${lines} lines`);
  }
});

Deno.test("architecture: docs/matrix.md names every augmentation, loss, method kind and dataset source", async () => {
  const doc = await Deno.readTextFile(`${ROOT}/docs/matrix.md`);
  const names = [...AUGMENTATIONS.names, ...LOSSES.names, ...METHODS.names, ...DATA_SOURCES.names];
  for (const name of names) {
    assert.ok(doc.includes(`\`${name}\``), `docs/matrix.md does not name \`${name}\``);
  }
});

Deno.test("architecture: `invbench run --help` lists every component from the catalogs", async () => {
  const r = await cli(["run", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  for (const name of [...AUGMENTATIONS.names, ...LOSSES.names, ...METHODS.names, ...DATA_SOURCES.names]) {
    assert.match(r.stdout, new RegExp(`^  ${name.replace(/[-_]/g, "[-_]")} +\\S`, "m"), name);
  }
});

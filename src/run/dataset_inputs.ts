/**
 * A result's record of a dataset's inputs (`inputs.datasets[id]`): each single file read (path
 * and sha256), and each folder of files (an image folder's split) by its manifest, written beside
 * the result as `manifests/<dataset>-<split>.jsonl` (src/data/file_manifest.ts). The document
 * holds the manifest's sha256, so its size does not grow with the number of images, and a
 * verifier who hashes the manifest file can see from it which file differs.
 */
import { dirname, join } from "node:path";
import type { Dataset, Split } from "../data/dataset.ts";
import { manifestDifference, manifestSummary, parseManifest, writeManifest } from "../data/file_manifest.ts";
import { InputError, VerificationError } from "../errors.ts";
import type { ResultDocument } from "../results/schema.ts";
import { sha256File } from "../util/hash.ts";
import { datasetContent } from "./cell.ts";

/** The folder of manifests in a run's output directory. */
export const MANIFESTS_DIR = "manifests";

type DatasetInput = ResultDocument["inputs"]["datasets"][string];

/** The manifest file of a split of dataset `id`, relative to the run directory. */
const manifestName = (id: string, split: Split) => `${MANIFESTS_DIR}/${id}-${split}.jsonl`;

/** Writes the manifest of each split of dataset `id` read from a folder into the run directory `out`. */
export async function writeManifests(out: string, id: string, splits: Record<Split, Dataset>): Promise<void> {
  for (const split of ["train", "test"] as const) {
    const m = splits[split].manifest;
    if (m) await writeManifest(m, join(out, MANIFESTS_DIR), `${id}-${split}.jsonl`);
  }
}

/**
 * The first file of dataset `id` that differs from the manifests an earlier run wrote into `out`
 * ("train/3/00012.png: changed (…)"), or null when none differs or there are none.
 */
export async function manifestChange(
  out: string,
  id: string,
  splits: Record<Split, Dataset>,
): Promise<string | null> {
  for (const split of ["train", "test"] as const) {
    const m = splits[split].manifest;
    const file = join(out, manifestName(id, split));
    const text = m && await Deno.readTextFile(file).catch(() => null);
    const change = text && manifestDifference(parseManifest(text, file), m);
    if (change) return change;
  }
  return null;
}

/** Dataset `id` (both splits) as a result records it. */
export function recordDataset(
  id: string,
  splits: Record<Split, Dataset>,
  portablePath: (path: string) => string,
): DatasetInput {
  const manifests: NonNullable<DatasetInput["manifests"]> = [];
  for (const split of ["train", "test"] as const) {
    const m = splits[split].manifest;
    if (m) {
      manifests.push({
        split,
        folder: portablePath(m.root),
        manifest: manifestName(id, split),
        ...manifestSummary(m),
      });
    }
  }
  return {
    content: datasetContent(splits),
    files: [...splits.train.files, ...splits.test.files].map((f) => ({
      path: portablePath(f.path),
      sha256: f.sha256,
    })),
    ...(manifests.length ? { manifests } : {}),
  };
}

/** The manifest files a document names, relative to its directory. */
export function manifestFiles(doc: ResultDocument): { name: string; sha256: string }[] {
  return Object.values(doc.inputs.datasets).flatMap((d) =>
    (d.manifests ?? []).map((m) => ({ name: m.manifest, sha256: m.sha256 }))
  );
}

/**
 * Checks each manifest file beside `resultFile` against the sha256 its document records; returns
 * those not there (a result copied without them). A manifest that differs throws a
 * VerificationError naming it.
 */
export async function checkManifests(resultFile: string, doc: ResultDocument): Promise<string[]> {
  const absent: string[] = [];
  for (const { name, sha256 } of manifestFiles(doc)) {
    const path = join(dirname(resultFile), name);
    const found = await sha256File(path).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    });
    if (!found) absent.push(path);
    else if (found.sha256 !== sha256) {
      throw new VerificationError(
        "manifest-mismatch",
        `${path}: sha256 ${found.sha256.slice(0, 12)}…, but the result records ${
          sha256.slice(0, 12)
        }… for it; the manifest was changed after the result was written`,
      );
    }
  }
  return absent;
}

/**
 * Copies the manifests `doc` names from the run directory `from` to `to` (a merge's), each checked
 * against the sha256 the document records; those already in `to` are kept.
 */
export async function copyManifests(from: string, to: string, doc: ResultDocument): Promise<void> {
  for (const { name, sha256 } of manifestFiles(doc)) {
    const target = join(to, name);
    if (await Deno.stat(target).then(() => true, () => false)) continue;
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(join(from, name), target).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new InputError(`${join(from, name)}: missing; the shard's result records this dataset manifest`);
    });
    if ((await sha256File(target)).sha256 !== sha256) {
      await Deno.remove(target);
      throw new VerificationError(
        "manifest-mismatch",
        `${join(from, name)}: not the manifest ${doc.matrix.name}'s result records (sha256 ${
          sha256.slice(0, 12)
        }…)`,
      );
    }
  }
}

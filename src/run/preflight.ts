/**
 * Everything about a run that can be checked before anything is written: each dataset and backbone
 * is read and checked (a truncated file, a model whose input does not match its declaration), each
 * dataset has at least two classes, its images fit each backbone it meets, and the adapters'
 * settings fit in this machine's memory. A problem stops the run before its first cell, located in
 * the matrix file, instead of after hours of other cells (and before run.json would pin the plan).
 */
import { totalmem } from "node:os";
import { checkImageShape } from "../backbone/input_spec.ts";
import { BackboneError, ConfigError, DataError, InputSpecError, MatrixError } from "../errors.ts";
import type { Cell, ResolvedAdapter } from "../matrix/expand.ts";
import { describePath, type ParsedMatrix } from "../matrix/parse.ts";
import { adapterOutDim, FRESH_VIEWS } from "../matrix/schema.ts";
import { adapterLoss } from "../methods/registry.ts";
import { backbone, datasetContent, datasetSplits, type RunContext } from "./cell.ts";
import type { RunInputs } from "./run_dir.ts";

const GiB = 2 ** 30;
/** Sources whose class count defaults to the largest label + 1. */
const DERIVED_CLASSES = new Set(["idx", "npy", "safetensors", "parquet"]);

/**
 * Bytes an adapter cell holds at least: the test split's features (clean and augmented draws; the
 * train split's are read by row from the feature cache, docs/data.md) and the adapter's weights
 * with their gradients and two Adam moments.
 */
export function adapterBytes(
  o: { testRows: number; d: number; hidden: number; outRatio: number; viewPool: number },
): number {
  const features = 4 * o.d * o.testRows * (1 + o.viewPool);
  const weights = 4 * 4 * (o.d * o.hidden + o.hidden * adapterOutDim(o.d, o.outRatio));
  return features + weights;
}

/** Checks the run's inputs; returns their hashes for run.json. Throws a located MatrixError. */
export async function preflight(
  parsed: ParsedMatrix,
  cells: readonly Cell[],
  ctx: RunContext,
): Promise<RunInputs> {
  const { spec } = parsed;
  const file = parsed.file || "<matrix>";
  const at = (path: PropertyKey[], message: string) => {
    const where = parsed.where?.(path);
    return new MatrixError(file, [`${where ? `${where}: ` : ""}${message}`]);
  };
  // A data file or model that fails to load is named with where the matrix declares it.
  const named = async <T>(path: PropertyKey[], load: () => Promise<T>): Promise<T> => {
    try {
      return await load();
    } catch (e) {
      if (!(e instanceof DataError || e instanceof BackboneError || e instanceof ConfigError)) throw e;
      const where = parsed.where?.(path);
      if (where && !e.message.includes(" (named at ")) {
        e.message += ` (named at ${file} ${where}: ${describePath(path)})`;
      }
      throw e;
    }
  };
  const inputs: RunInputs = { datasets: {}, backbones: {} };
  const memory = totalmem();
  for (const c of cells) {
    const di = spec.datasets.findIndex((d) => d.id === c.dataset);
    const bi = spec.backbones.findIndex((b) => b.id === c.backbone);
    const splits = await named(["datasets", di], () => datasetSplits(ctx, c.spec.dataset));
    const model = await named(["backbones", bi], () => backbone(ctx, c.spec.backbone));
    if (!inputs.datasets[c.dataset]) {
      const present = new Set(splits.train.labels).size;
      if (present < 2) {
        throw at(
          ["datasets", di],
          `datasets[${di}] "${c.dataset}": the training split has ${present} class(es); a classifier needs at least 2`,
        );
      }
      // Sources whose class count comes from the largest label: a stray label must not add classes.
      if (
        c.spec.dataset.classes === undefined && DERIVED_CLASSES.has(c.spec.dataset.source) &&
        present !== splits.train.classes
      ) {
        throw at(
          ["datasets", di],
          `datasets[${di}] "${c.dataset}": the labels are not 0..K−1 (${present} distinct values, the largest ${
            splits.train.classes - 1
          }), so the class count is unclear; declare it with classes: N`,
        );
      }
    }
    if (splits.test.n < 2) {
      throw at(
        ["datasets", di],
        `datasets[${di}] "${c.dataset}": the test split has ${splits.test.n} image${
          splits.test.n === 1 ? "" : "s"
        }; the structure metrics need at least 2 (one pair)`,
      );
    }
    inputs.datasets[c.dataset] = datasetContent(splits);
    inputs.backbones[c.backbone] = model.contentHash;
    try {
      checkImageShape(
        model.spec,
        splits.train.channels,
        splits.train.height,
        splits.train.width,
        `datasets[${di}] "${c.dataset}" through backbones[${bi}] "${c.backbone}"`,
      );
    } catch (e) {
      if (e instanceof InputSpecError) throw at(["backbones", bi, "input"], e.message);
      throw e;
    }
    if (c.spec.method.kind === "adapter") {
      const m = c.spec.method as ResolvedAdapter;
      const mi = spec.methods.findIndex((x) => x.id === c.method);
      const own = (spec.methods[mi] as { training?: Record<string, unknown> }).training;
      const outDim = adapterOutDim(model.featureDim, m.training.out_ratio);
      const loss = adapterLoss(m, ctx.methodFiles);
      if (loss.sameDim && outDim !== model.featureDim) {
        const path = own?.out_ratio !== undefined
          ? ["methods", mi, "training", "out_ratio"]
          : ["training", "out_ratio"];
        const field = describePath(path);
        throw at(
          path,
          `${field}: method "${c.method}": loss ${loss.name} keeps d' = d (${model.featureDim}); ` +
            `out_ratio ${m.training.out_ratio} gives d' = ${outDim}; expected 1`,
        );
      }
      const bytes = adapterBytes({
        testRows: splits.test.n,
        d: model.featureDim,
        hidden: m.training.hidden,
        outRatio: m.training.out_ratio,
        // On the device at once: the pool, or one epoch's s fresh views.
        viewPool: m.training.view_pool === FRESH_VIEWS ? m.training.views : m.training.view_pool,
      });
      const views = m.training.views + 1;
      const rows = views * Math.min(m.training.batch, splits.train.n);
      const params = m.params as Record<string, number | undefined>;
      const work = loss.workBytes?.({ rows, inDim: model.featureDim, outDim, views }, params) ?? 0;
      if (bytes + work > memory) {
        // Point at what takes more: the loss's parameters, or the training settings.
        const ownParams = (spec.methods[mi] as { params?: Record<string, unknown> }).params;
        const path = work > bytes
          ? ["methods", mi, ...(ownParams && Object.keys(ownParams).length ? ["params"] : [])]
          : own?.hidden !== undefined || own?.view_pool !== undefined
          ? ["methods", mi, "training"]
          : ["training"];
        const gib = (b: number) => (b / GiB).toFixed(1);
        throw at(
          path,
          `method "${c.method}" on ${c.dataset}/${c.backbone}: training (hidden ${m.training.hidden}, ` +
            `view_pool ${m.training.view_pool}, ${model.featureDim} features) needs at least ${
              gib(bytes)
            } GiB` +
            (work ? ` and loss ${loss.name} ${gib(work)} GiB for a batch of ${rows} rows` : "") +
            `, more than this machine's ${gib(memory)} GiB`,
        );
      }
    }
  }
  return inputs;
}

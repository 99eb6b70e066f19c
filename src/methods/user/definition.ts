/**
 * What a method file's default export is: the built-in loss catalog's fields (`LossEntry`: name,
 * summary, params with description/default/bounds, usesAnchors, sameDim, minViews, random) and
 * `loss(batch, params, ops)`, which returns the [1, 1] loss using only `ops`. Authors import the
 * types from mod.ts (`import type { LossDefinition } from ".../mod.ts"`).
 */
import { z } from "zod";
import type { Shape } from "../../tensor/backend.ts";
import type { IndexTensor, Tensor } from "../../tensor/tensor.ts";
import type { TensorOptions } from "../../tensor/ops.ts";
import type { LossEntry } from "../../catalog/entries.ts";
import type { LossBatch } from "../losses/spec.ts";
import type { TENSOR_OPS } from "./ops_table.ts";

/** The `ops` a loss gets: tensor ops, constants (no backend argument) and seeded random draws. */
export type LossOps = typeof TENSOR_OPS & {
  tensor(
    data: Float32Array | number[] | number[][],
    shape?: Shape,
    opts?: Omit<TensorOptions, "backend">,
  ): Tensor;
  zeros(shape: Shape): Tensor;
  full(shape: Shape, value: number): Tensor;
  indexTensor(data: Int32Array | number[], shape?: Shape): IndexTensor;
  /** [rows, cols] standard normals, fresh for every loss call (keyed by seed, step, draw). */
  randomNormal(rows: number, cols: number): Tensor;
  /** A uniformly random permutation of 0..n−1 as an [n, 1] index tensor, fresh for every call. */
  randomPermutation(n: number): IndexTensor;
};

/**
 * A method file's default export. While it is traced, `batch.seed` and `batch.step` cannot be
 * read and tensors have shapes but no values: the loss is a static graph of `ops` calls.
 */
export interface LossDefinition extends LossEntry {
  loss(batch: LossBatch, params: Readonly<Record<string, number | undefined>>, ops: LossOps): Tensor;
}

const ParamSpecSchema = z.strictObject({
  description: z.string().min(1),
  default: z.number().optional(),
  integer: z.boolean().optional(),
  min: z.number().optional(),
  exclusiveMin: z.boolean().optional(),
  max: z.number().optional(),
});

/** The data fields of a LossDefinition, as checked when a file is loaded. */
export const LossDefinitionFields = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "a short name: letters, digits, '_', '.', '-'"),
  summary: z.string().min(1),
  params: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), ParamSpecSchema).default({}),
  usesAnchors: z.boolean(),
  sameDim: z.boolean(),
  minViews: z.number().int().positive(),
  random: z.boolean(),
});

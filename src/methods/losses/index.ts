/**
 * The adapter losses by name: each with its `LossSpec` (parameters and defaults) and a function of
 * a `LossBatch` returning the [1, 1] loss. Parameter names match the matrix schema's per-loss
 * `params` (src/matrix/schema.ts).
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { hsicFromBatch, hsicSpec } from "./hsic.ts";
import { mawaFromBatch, mawaSpec } from "./mawa.ts";
import { simclrFromBatch, simclrSpec } from "./simclr.ts";
import { type LossBatch, type LossSpec, resolveParams } from "./spec.ts";
import { vicregFromBatch, vicregSpec } from "./vicreg.ts";
import { wacoFromBatch, wacoSpec } from "./waco.ts";

export type LossName = "mawa" | "waco" | "simclr" | "hsic" | "vicreg";

export interface AdapterLoss {
  readonly spec: LossSpec;
  /** The loss on a batch; `params` as returned by `resolveParams(spec, …)`. */
  readonly compute: (batch: LossBatch, params: Record<string, number | undefined>) => Tensor;
}

export const LOSSES: Readonly<Record<LossName, AdapterLoss>> = {
  mawa: { spec: mawaSpec, compute: mawaFromBatch },
  waco: { spec: wacoSpec, compute: wacoFromBatch },
  simclr: { spec: simclrSpec, compute: simclrFromBatch },
  hsic: { spec: hsicSpec, compute: hsicFromBatch },
  vicreg: { spec: vicregSpec, compute: vicregFromBatch },
};

/**
 * A loss function of batches for `name` with the matrix's `params` resolved once (defaults,
 * validation): `lossFor("waco", { directions: 500 })(batch)`.
 */
export function lossFor(
  name: LossName,
  params: Readonly<Record<string, unknown>> = {},
): (batch: LossBatch) => Tensor {
  const loss = LOSSES[name];
  const resolved = resolveParams(loss.spec, params);
  return (batch) => loss.compute(batch, resolved);
}

export { type LossBatch, type LossSpec, type ParamSpec, resolveParams } from "./spec.ts";

/**
 * The adapter losses by name (registered in ./registered.ts, one line each): each a catalog
 * entry (`LossEntry`: parameters, defaults, flags) with the function that computes it.
 */
import { catalog, resolveParams, withLateDefaults } from "../../catalog/entries.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import * as registered from "./registered.ts";
import type { AdapterLoss, LossBatch } from "./spec.ts";

export type LossName = keyof typeof registered;

/** The losses in name order; `LOSSES.get(name)` fails listing the names that exist. */
export const LOSSES = catalog<AdapterLoss, "name">("loss", "name", Object.values(registered));

/**
 * A loss function of batches for `name` with the matrix's `params` resolved once (defaults,
 * validation), e.g. `lossFor(name, { directions: 500 })(batch)` for WaCo.
 */
export function lossFor(
  name: string,
  params: Readonly<Record<string, unknown>> = {},
): (batch: LossBatch) => Tensor {
  const loss = LOSSES.get(name);
  const resolved = withLateDefaults(loss.params, resolveParams(`${name} params`, loss.params, params));
  return (batch) => loss.compute(batch, resolved);
}

export type { AdapterLoss, LossBatch } from "./spec.ts";

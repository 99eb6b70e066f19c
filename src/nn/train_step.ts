/** One optimisation step: loss, reverse-mode gradients, AdamW update, all inside one memory scope. */
import { grad } from "../tensor/autograd.ts";
import type { AdamW } from "../tensor/optim.ts";
import { type Tensor, tidy } from "../tensor/tensor.ts";

/**
 * Runs `lossFn`, differentiates it with respect to the optimiser's parameters and applies one
 * AdamW update at `lr`. Every intermediate is freed; the returned loss ([1, 1]) is detached.
 */
export function trainStep(opt: AdamW, lossFn: () => Tensor, lr?: number): Tensor {
  return tidy(() => {
    const loss = lossFn();
    opt.step(grad(loss, opt.params), lr);
    loss.node = null;
    loss.requiresGrad = false;
    return loss;
  });
}

/** AdamW with decoupled weight decay, and the cosine-annealing learning-rate schedule. */
import { TensorError } from "../errors.ts";
import type { Storage } from "./backend.ts";
import { shapeStr, Tensor } from "./tensor.ts";

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (PyTorch's AdamW default is 1e-2; the protocol uses 1e-4). */
  weightDecay?: number;
}

/** AdamW over a fixed list of parameters; moments live on the parameters' backend. */
export class AdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  #step = 0;
  readonly #m: Storage[];
  readonly #v: Storage[];

  constructor(readonly params: readonly Tensor[], opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 1e-2;
    for (const p of params) {
      if (!p.requiresGrad) {
        throw new TensorError("AdamW", `parameter ${shapeStr(p.shape)} does not require grad`);
      }
    }
    this.#m = params.map((p) => p.backend.zeros(p.size));
    this.#v = params.map((p) => p.backend.zeros(p.size));
  }

  get stepCount(): number {
    return this.#step;
  }

  /** One update with `grads[i]` for `params[i]`, at learning rate `lr` (default: the base lr). */
  step(grads: readonly Tensor[], lr: number = this.lr): void {
    if (grads.length !== this.params.length) {
      throw new TensorError("AdamW.step", `${grads.length} gradients for ${this.params.length} parameters`);
    }
    this.#step++;
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (g.shape[0] !== p.shape[0] || g.shape[1] !== p.shape[1]) {
        throw new TensorError(
          "AdamW.step",
          `gradient ${shapeStr(g.shape)} for parameter ${i} ${shapeStr(p.shape)}; expected the same shape`,
        );
      }
      p.assertLive("AdamW.step");
      p.backend.adamw(p.storage, g.storage, this.#m[i], this.#v[i], p.size, {
        lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
        step: this.#step,
      });
    });
  }

  dispose(): void {
    this.params.forEach((p, i) => {
      p.backend.dispose(this.#m[i]);
      p.backend.dispose(this.#v[i]);
    });
  }
}

/**
 * Cosine annealing from `lrMax` at step 0 to `lrMin` at `totalSteps` (PyTorch's
 * CosineAnnealingLR with T_max = totalSteps, eta_min = lrMin).
 */
export function cosineLr(step: number, totalSteps: number, lrMax: number, lrMin: number): number {
  if (totalSteps <= 0) return lrMax;
  const t = Math.min(Math.max(step, 0), totalSteps) / totalSteps;
  return lrMin + 0.5 * (lrMax - lrMin) * (1 + Math.cos(Math.PI * t));
}

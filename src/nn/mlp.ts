/** A fully connected network with ReLU between layers (the adapter E and the classifiers). */
import type { Backend } from "../tensor/backend.ts";
import { add, biasRelu, matmul, param } from "../tensor/ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { CounterRng } from "../rng/philox.ts";

export interface Linear {
  /** [in, out] */
  weight: Tensor;
  /** [1, out] */
  bias: Tensor;
}

/**
 * PyTorch's default nn.Linear initialisation: weight and bias uniform in ±1/sqrt(fan_in),
 * drawn from the stream (seed, "init", name, layer) so a seed fixes the network everywhere.
 */
export function initLinear(
  fanIn: number,
  fanOut: number,
  seed: number,
  name: string,
  layer: number,
  backend?: Backend,
): Linear {
  const bound = 1 / Math.sqrt(fanIn);
  const w = new CounterRng(seed, "init", name, layer, "weight").uniforms(fanIn * fanOut, -bound, bound);
  const b = new CounterRng(seed, "init", name, layer, "bias").uniforms(fanOut, -bound, bound);
  return { weight: param(w, [fanIn, fanOut], backend), bias: param(b, [1, fanOut], backend) };
}

/** An MLP with layer sizes `sizes` (e.g. [d, 4096, d]) and ReLU between layers. */
export class Mlp {
  readonly layers: Linear[];

  constructor(readonly sizes: readonly number[], seed: number, name = "mlp", backend?: Backend) {
    if (sizes.length < 2) {
      throw new RangeError(`Mlp: sizes ${JSON.stringify(sizes)}; expected at least [in, out]`);
    }
    this.layers = sizes.slice(1).map((out, i) => initLinear(sizes[i], out, seed, name, i, backend));
  }

  get parameters(): Tensor[] {
    return this.layers.flatMap((l) => [l.weight, l.bias]);
  }

  get parameterCount(): number {
    return this.parameters.reduce((s, p) => s + p.size, 0);
  }

  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, i) => {
      const z = matmul(h, l.weight);
      h = i < this.layers.length - 1 ? biasRelu(z, l.bias) : add(z, l.bias);
    });
    return h;
  }

  dispose(): void {
    for (const p of this.parameters) p.dispose();
  }
}

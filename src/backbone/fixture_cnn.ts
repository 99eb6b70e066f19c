/**
 * The fixture CNN: a small LeNet-style backbone for 28×28 grayscale images (MNIST, Fashion-MNIST),
 * trained on the tensor core (src/pretrain/pretrain.ts) and shipped as ONNX (fixtures/backbones/)
 * so the benchmark has a frozen backbone F that is offline, small and NOT rotation-invariant.
 *
 *   input [N, 1, 28, 28], normalised with the dataset mean/std
 *   conv 5×5, 1 → 32 (no padding)   → [N, 32, 24, 24] → ReLU → max-pool 2 → [N, 32, 12, 12]
 *   conv 5×5, 32 → 64 (no padding)  → [N, 64, 8, 8]   → ReLU → max-pool 2 → [N, 64, 4, 4]
 *   flatten → Gemm 1024 → 128        → "features" [N, 128] (no final ReLU)
 *
 * For pretraining only, a head Linear(128, 10) is applied to ReLU(features); it is not exported.
 *
 * On the tensor core activations are NHWC ([N·H·W, C], see src/nn/conv2d.ts); conv weights are
 * [KH·KW·C, OC] and the flatten order before the Gemm is (y, x, c). `onnx_export.ts` converts
 * both to ONNX's NCHW conventions. ReLU and max-pool commute exactly (max is monotone), so the
 * tensor core pools before the ReLU (a quarter of the elementwise work) while the ONNX graph uses
 * the conventional Conv → Relu → MaxPool order; the outputs are identical.
 */
import { TensorError } from "../errors.ts";
import type { Backend } from "../tensor/backend.ts";
import { add, matmul, param, relu, reshape } from "../tensor/ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { initLinear, type Linear } from "../nn/mlp.ts";
import { conv2d, flattenNhwc, maxPool2d, type Nhwc, nhwc } from "../nn/conv2d.ts";

/** The fixed architecture of the fixture CNN. */
export const FIXTURE_CNN = {
  /** Input height = width (pixels), one channel. */
  imageSize: 28,
  kernel: 5,
  conv1Channels: 32,
  conv2Channels: 64,
  /** Spatial size after the second pool: ((28 − 4) / 2 − 4) / 2. */
  pooledSize: 4,
  featureDim: 128,
  classes: 10,
} as const;

const K = FIXTURE_CNN.kernel;
const S = FIXTURE_CNN.imageSize;
const C1 = FIXTURE_CNN.conv1Channels;
const C2 = FIXTURE_CNN.conv2Channels;
const P = FIXTURE_CNN.pooledSize;
const FLAT = P * P * C2;

/** The parameters of the fixture CNN as host arrays, in the tensor core's layouts. */
export interface FixtureCnnWeights {
  /** [K·K·1, C1], row (ky·K + kx)·1 + c. */
  conv1Weight: Float32Array;
  conv1Bias: Float32Array;
  /** [K·K·C1, C2], row (ky·K + kx)·C1 + c. */
  conv2Weight: Float32Array;
  conv2Bias: Float32Array;
  /** [P·P·C2, 128], row (y·P + x)·C2 + c (NHWC flatten). */
  fcWeight: Float32Array;
  fcBias: Float32Array;
  /** Training head [128, classes] and [classes]; absent in exported feature extractors. */
  headWeight?: Float32Array;
  headBias?: Float32Array;
}

/** The fixture CNN on one backend: feature extractor plus the pretraining head. */
export class FixtureCnn {
  readonly conv1: Linear;
  readonly conv2: Linear;
  readonly fc: Linear;
  readonly head: Linear;

  /**
   * PyTorch-default initialisation (uniform ±1/sqrt(fan_in) for weights and biases), each tensor
   * from the stream (seed, "init", "fixture_cnn", layer, "weight" | "bias"); or, when `weights`
   * is given, those weights (a missing head keeps its initialisation).
   */
  constructor(readonly seed: number, backend?: Backend, weights?: FixtureCnnWeights) {
    const layer = (fanIn: number, fanOut: number, i: number, w?: Float32Array, b?: Float32Array): Linear => {
      if (!w || !b) return initLinear(fanIn, fanOut, seed, "fixture_cnn", i, backend);
      if (w.length !== fanIn * fanOut || b.length !== fanOut) {
        throw new TensorError(
          "FixtureCnn",
          `layer ${i} weights have ${w.length} + ${b.length} values; expected ${fanIn}×${fanOut} + ${fanOut}`,
        );
      }
      return { weight: param(w, [fanIn, fanOut], backend), bias: param(b, [1, fanOut], backend) };
    };
    this.conv1 = layer(K * K * 1, C1, 0, weights?.conv1Weight, weights?.conv1Bias);
    this.conv2 = layer(K * K * C1, C2, 1, weights?.conv2Weight, weights?.conv2Bias);
    this.fc = layer(FLAT, FIXTURE_CNN.featureDim, 2, weights?.fcWeight, weights?.fcBias);
    this.head = layer(FIXTURE_CNN.featureDim, FIXTURE_CNN.classes, 3, weights?.headWeight, weights?.headBias);
  }

  /** The feature extractor's parameters (what is exported). */
  get featureParameters(): Tensor[] {
    return [this.conv1, this.conv2, this.fc].flatMap((l) => [l.weight, l.bias]);
  }

  /** Every trainable parameter, head included. */
  get parameters(): Tensor[] {
    return [...this.featureParameters, this.head.weight, this.head.bias];
  }

  get parameterCount(): number {
    return this.parameters.reduce((s, p) => s + p.size, 0);
  }

  /**
   * Features [N, 128] of normalised images `x` [N, 28·28] (row-major pixels; with one channel
   * this is also the NCHW layout of ONNX's input).
   */
  features(x: Tensor): Tensor {
    if (x.cols !== S * S) {
      throw new TensorError(
        "FixtureCnn.features",
        `images ${x.rows}×${x.cols}; expected [N, ${S * S}] (28×28 pixels)`,
      );
    }
    const n = x.rows;
    let h: Nhwc = nhwc(reshape(x, [n * S * S, 1]), n, S, S);
    h = conv2d(h, this.conv1.weight, this.conv1.bias, { kernel: [K, K] });
    h = maxPool2d(h, 2);
    h = { ...h, data: relu(h.data) };
    h = conv2d(h, this.conv2.weight, this.conv2.bias, { kernel: [K, K] });
    h = maxPool2d(h, 2);
    h = { ...h, data: relu(h.data) };
    return add(matmul(flattenNhwc(h), this.fc.weight), this.fc.bias);
  }

  /** Pretraining logits [N, classes]: the head on ReLU(features). */
  logits(x: Tensor): Tensor {
    return add(matmul(relu(this.features(x)), this.head.weight), this.head.bias);
  }

  /** Copies the parameters to the host. */
  async weights(): Promise<Required<FixtureCnnWeights>> {
    const [conv1Weight, conv1Bias, conv2Weight, conv2Bias, fcWeight, fcBias, headWeight, headBias] =
      await Promise.all(
        this.parameters.map((p) => p.toArray()),
      );
    return { conv1Weight, conv1Bias, conv2Weight, conv2Bias, fcWeight, fcBias, headWeight, headBias };
  }

  dispose(): void {
    for (const p of this.parameters) p.dispose();
  }
}

/**
 * invbench: the public library API. Everything a user or another tool may import is re-exported
 * here; modules under src/ not listed here are internal.
 */
export type { AdamWStep, Axis, Backend, BinaryOp, Shape, Storage, UnaryOp } from "./src/tensor/backend.ts";
export {
  getBackend,
  IndexTensor,
  keep,
  noGrad,
  setBackend,
  Tensor,
  TensorError,
  tidy,
} from "./src/tensor/tensor.ts";
export * from "./src/tensor/ops.ts";
export { grad } from "./src/tensor/autograd.ts";
export { AdamW, type AdamWOptions, cosineLr } from "./src/tensor/optim.ts";
export {
  BACKEND_KINDS,
  type BackendChoice,
  type BackendKind,
  describeAdapter,
  selectBackend,
} from "./src/tensor/select.ts";
export { CpuBackend } from "./src/tensor/backends/cpu.ts";
export { createWebGpuBackend, WebGpuBackend } from "./src/tensor/backends/webgpu.ts";
export { CounterRng, philox4x32, type StreamLabel } from "./src/rng/philox.ts";
export { initLinear, type Linear, Mlp } from "./src/nn/mlp.ts";
export { trainStep } from "./src/nn/train_step.ts";
export { mawaLoss } from "./src/methods/losses/mawa.ts";

/**
 * The ops a method file may call (`loss(batch, params, ops)`): the differentiable ops of
 * src/tensor/ops.ts by name, plus two seeded random draws. This table is the one list of them:
 * the sandboxed tracer records calls to exactly these names, and the executor replays a graph
 * by calling the same functions on the run's backend, so a traced loss computes what the same
 * calls would compute directly (and built-in losses re-written as files give identical numbers).
 */
import * as tensorOps from "../../tensor/ops.ts";

/** Pure tensor ops, called as they are. */
export const TENSOR_OPS = {
  neg: tensorOps.neg,
  relu: tensorOps.relu,
  step: tensorOps.step,
  sign: tensorOps.sign,
  exp: tensorOps.exp,
  log: tensorOps.log,
  sqrt: tensorOps.sqrt,
  abs: tensorOps.abs,
  pow: tensorOps.pow,
  square: tensorOps.square,
  add: tensorOps.add,
  sub: tensorOps.sub,
  mul: tensorOps.mul,
  div: tensorOps.div,
  maximum: tensorOps.maximum,
  minimum: tensorOps.minimum,
  matmul: tensorOps.matmul,
  expand: tensorOps.expand,
  sum: tensorOps.sum,
  mean: tensorOps.mean,
  max: tensorOps.max,
  logsumexp: tensorOps.logsumexp,
  logSoftmax: tensorOps.logSoftmax,
  softmaxCrossEntropy: tensorOps.softmaxCrossEntropy,
  sortRows: tensorOps.sortRows,
  gatherRows: tensorOps.gatherRows,
  scatterAddRows: tensorOps.scatterAddRows,
  permuteRows: tensorOps.permuteRows,
  gatherElems: tensorOps.gatherElems,
  scatterAddElems: tensorOps.scatterAddElems,
  transpose: tensorOps.transpose,
  reshape: tensorOps.reshape,
  slice: tensorOps.slice,
  concat: tensorOps.concat,
  pairwiseSqDist: tensorOps.pairwiseSqDist,
} as const;

/**
 * Ops that create tensors from host values; the position of their `backend` argument, which a
 * method file never passes (the executor supplies the run's backend there).
 */
export const CREATION_OPS = {
  /** tensor(data, shape?, opts?): the backend goes into opts. */
  tensor: { fn: tensorOps.tensor, backendArg: 2 },
  zeros: { fn: tensorOps.zeros, backendArg: 1 },
  full: { fn: tensorOps.full, backendArg: 2 },
  indexTensor: { fn: tensorOps.indexTensor, backendArg: 2 },
} as const;

/**
 * Random draws, keyed by (seed, step) of the loss call and the draw's position k in the graph:
 * stream CounterRng(seed, "user-loss", step, k). A method file cannot read seed or step itself.
 */
export const RANDOM_OPS = ["randomNormal", "randomPermutation"] as const;

export type TensorOpName = keyof typeof TENSOR_OPS;
export type CreationOpName = keyof typeof CREATION_OPS;
export type RandomOpName = (typeof RANDOM_OPS)[number];
export type UserOpName = TensorOpName | CreationOpName | RandomOpName;

/** Every op name a method file may call, in one list (the docs and the tracer read it). */
export const USER_OP_NAMES: readonly UserOpName[] = [
  ...Object.keys(TENSOR_OPS) as TensorOpName[],
  ...Object.keys(CREATION_OPS) as CreationOpName[],
  ...RANDOM_OPS,
];

/**
 * A traced loss: the op graph a method file's `loss(batch, params, ops)` made, as plain JSON. Node
 * arguments are numbers, booleans, strings, host constants and references to earlier values;
 * value 0 is `batch.y` and value 1 is `batch.anchors`. The graph is what the sandboxed tracer
 * sends back and what the executor runs: nothing else of the file reaches the main process.
 */
import type { UserOpName } from "./ops_table.ts";

/** An argument of an op call. */
export type GraphArg =
  | null
  | boolean
  | number
  | string
  | { tensor: number }
  | { index: number }
  | { floats: number[] }
  | { ints: number[] }
  | { list: GraphArg[] }
  | { record: Record<string, GraphArg> }
  | { undefined: true };

/** Where an op's results go: one tensor, one index tensor, or a record of them ({values, indices}). */
export type GraphOut = { tensor: number } | { index: number } | { record: Record<string, GraphOut> };

export interface GraphNode {
  op: UserOpName;
  args: GraphArg[];
  out: GraphOut;
}

export interface LossGraph {
  nodes: GraphNode[];
  /** The value id of the [1, 1] loss. */
  output: number;
}

/** The shapes one graph is traced for: a batch of `rows` = views·N outputs. */
export interface BatchShape {
  rows: number;
  /** d', the adapter's output dimension (columns of y). */
  outDim: number;
  /** d, the feature dimension (columns of anchors). */
  inDim: number;
  views: number;
}

export const Y_VALUE = 0;
export const ANCHORS_VALUE = 1;

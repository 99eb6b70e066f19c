/**
 * Runs a traced loss graph (graph.ts) on a batch's backend: each node calls the op of the same
 * name from ops_table.ts, so the result carries the ops' own autograd and equals what the same
 * calls made directly would give. Random draws come from CounterRng(seed, "user-loss", step, k)
 * for the k-th draw of the graph.
 */
import { CounterRng } from "../../rng/philox.ts";
import { indexTensor, tensor } from "../../tensor/ops.ts";
import { TensorError } from "../../errors.ts";
import { IndexTensor, Tensor } from "../../tensor/tensor.ts";
import type { LossBatch } from "../losses/spec.ts";
import { ANCHORS_VALUE, type GraphArg, type GraphOut, type LossGraph, Y_VALUE } from "./graph.ts";
import { CREATION_OPS, TENSOR_OPS } from "./ops_table.ts";

type Value = Tensor | IndexTensor;

export function executeGraph(graph: LossGraph, batch: LossBatch): Tensor {
  const backend = batch.y.backend;
  const values: Value[] = [];
  values[Y_VALUE] = batch.y;
  values[ANCHORS_VALUE] = batch.anchors;
  const valueOf = (id: number, kind: "tensor" | "index"): Value => {
    const v = values[id];
    if (!(kind === "tensor" ? v instanceof Tensor : v instanceof IndexTensor)) {
      throw new TensorError("user loss graph", `value ${id} is not a ${kind} defined earlier in the graph`);
    }
    return v;
  };
  const arg = (a: GraphArg): unknown => {
    if (a === null || typeof a !== "object") return a;
    if ("tensor" in a) return valueOf(a.tensor, "tensor");
    if ("index" in a) return valueOf(a.index, "index");
    if ("floats" in a) return new Float32Array(a.floats);
    if ("ints" in a) return Int32Array.from(a.ints);
    if ("list" in a) return a.list.map(arg);
    if ("record" in a) return Object.fromEntries(Object.entries(a.record).map(([k, v]) => [k, arg(v)]));
    return undefined;
  };
  const assign = (out: GraphOut, v: unknown): void => {
    if ("tensor" in out || "index" in out) {
      const id = "tensor" in out ? out.tensor : out.index;
      if (id !== values.length || !(v instanceof ("tensor" in out ? Tensor : IndexTensor))) {
        throw new TensorError("user loss graph", `output ${id} does not match what its op returns`);
      }
      values.push(v as Value);
      return;
    }
    for (const [k, o] of Object.entries(out.record)) assign(o, (v as Record<string, unknown>)[k]);
  };
  let draw = 0;
  for (const node of graph.nodes) {
    const args = node.args.map(arg);
    let result: unknown;
    if (node.op === "randomNormal" || node.op === "randomPermutation") {
      const rng = new CounterRng(batch.seed, "user-loss", batch.step, draw++);
      const [r, c] = args as number[];
      result = node.op === "randomNormal"
        ? tensor(rng.normals(r * c), [r, c], { backend })
        : indexTensor(rng.permutation(r), [r, 1], backend);
    } else if (node.op in CREATION_OPS) {
      const { fn, backendArg } = CREATION_OPS[node.op as keyof typeof CREATION_OPS];
      const full = args.slice(0, backendArg);
      while (full.length < backendArg) full.push(undefined);
      if (node.op === "tensor") full[2] = { ...(args[2] as object | undefined), backend };
      else full.push(backend);
      result = (fn as (...a: unknown[]) => unknown)(...full);
    } else {
      result = (TENSOR_OPS[node.op as keyof typeof TENSOR_OPS] as (...a: unknown[]) => unknown)(...args);
    }
    assign(node.out, result);
  }
  return valueOf(graph.output, "tensor") as Tensor;
}

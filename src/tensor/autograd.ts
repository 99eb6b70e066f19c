/** Reverse-mode differentiation over the nodes that ops record (see `tensor.ts`). */
import { TensorError } from "../errors.ts";
import { add, expand, zeros } from "./ops.ts";
import { noGrad, shapeStr, Tensor, tidy } from "./tensor.ts";

/**
 * Gradients of the scalar `loss` ([1, 1]) with respect to each tensor of `wrt`; a tensor the
 * loss does not depend on gets zeros. Intermediate gradients are left to the enclosing `tidy`.
 *
 * A backward may return a gradient smaller than its input that broadcasts to it (`sum`'s: a row,
 * a column or a scalar, already `+ 0` as `expand` would make it): it is added to another
 * gradient of the same input by a broadcasting add, and expanded only where a full tensor is
 * needed (the input's own backward, or the result), which saves a full-size pass and buffer
 * per reduction without changing a value.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (loss.size !== 1) {
    throw new TensorError("grad", `loss must be a [1, 1] tensor, got ${shapeStr(loss.shape)}`);
  }
  // Iterative post-order DFS: deep graphs must not overflow the call stack.
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([loss]);
  const stack: [Tensor, number][] = [[loss, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  // Each gradient is freed as soon as nothing needs it any more (its node's backward has run and
  // no other entry holds the same tensor), and every temporary of a backward when it returns, so
  // the pool hands their buffers to the next ones: a step's peak memory is its forward values plus
  // the frontier of gradients, not every gradient of the step. Values are unchanged.
  const grads = new Map<Tensor, Tensor>();
  const holders = new Map<Tensor, number>();
  const hold = (g: Tensor) => holders.set(g, (holders.get(g) ?? 0) + 1);
  const release = (g: Tensor) => {
    const left = (holders.get(g) ?? 0) - 1;
    if (left > 0) holders.set(g, left);
    else {
      holders.delete(g);
      g.dispose();
    }
  };
  const wanted = new Set(wrt);
  const seed = noGrad(() => add(zeros(loss.shape, loss.backend), 1));
  grads.set(loss, seed);
  hold(seed);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g0 = grads.get(t);
      if (!g0 || !t.node) continue;
      const g = full(g0, t)!;
      const inputGrads = tidy(() => t.node!.backward(g));
      const spent: Tensor[] = [];
      t.node.inputs.forEach((input, j) => {
        const gi = inputGrads[j];
        if (!gi || !input.requiresGrad) return;
        const prev = grads.get(input);
        const next = prev ? add(prev, gi) : gi;
        grads.set(input, next);
        hold(next);
        if (prev) {
          release(prev);
          spent.push(gi);
        }
      });
      if (wanted.has(t)) continue;
      grads.delete(t);
      release(g0);
      if (g !== g0) spent.push(g);
      // Freed once no entry holds them (the same tensor may be another input's gradient).
      for (const x of spent) if (!holders.has(x) && x !== g0) x.dispose();
    }
  });
  return wrt.map((w) => noGrad(() => full(grads.get(w), w)) ?? zeros(w.shape, w.backend));
}

/** `g` expanded to `t`'s shape where it is a broadcastable (smaller) gradient. */
function full(g: Tensor | undefined, t: Tensor): Tensor | undefined {
  return g && (g.rows !== t.rows || g.cols !== t.cols) ? expand(g, t.shape) : g;
}

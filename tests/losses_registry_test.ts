/**
 * Every registered loss, called by name through the public registry (`lossFor`) with parameters
 * that all differ from their defaults, against the float64 references of
 * tests/golden/losses_reference.ts. A registry entry pointing at the wrong function, or a wrapper
 * that drops, renames or swaps a parameter, gives a different number and fails here (the forward
 * tests call the loss functions directly and cannot see such wiring).
 */
import assert from "node:assert/strict";
import { LOSSES, lossFor, type LossName, type Tensor, tensor, tidy } from "../mod.ts";
import { wacoDraws } from "../src/methods/losses/waco.ts";
import { cpuBackend, normals } from "./golden/losses_backends.ts";
import * as ref from "./golden/losses_reference.ts";

const N = 6, VIEWS = 3, M = N * VIEWS, D = 4, SEED = 7, STEP = 3;

/** Clean features repeated VIEWS times, adapter outputs (d' = d) correlated with them. */
function batchData() {
  const clean = normals("registry-clean", N * D);
  const anchors = new Float32Array(M * D);
  for (let k = 0; k < VIEWS; k++) anchors.set(clean, k * N * D);
  const noise = normals("registry-noise", M * D, 0.6);
  const y = anchors.map((v, i) => 0.8 * v + noise[i]);
  return { anchors, y };
}

interface Case {
  /** Every parameter of the loss, each away from its default. */
  params: Record<string, number>;
  /** The float64 value of the loss for these parameters. */
  want: (y: ref.M64, anchors: ref.M64) => number;
}

const CASES: Record<LossName, Case> = {
  mawa: {
    params: {},
    want: (y, a) => {
      let s = 0;
      for (let i = 0; i < y.data.length; i++) s += (y.data[i] - a.data[i]) ** 2;
      return s / y.rows;
    },
  },
  waco: {
    params: { directions: 23, p: 3, q: 1.5 },
    // The draws are the loss's documented random streams (seed, "waco", step, …), 23 directions each.
    want: (y, a) => -ref.swc(a, y, wacoDraws(SEED, STEP, M, D, D, 23), 3, 1.5).swc,
  },
  simclr: { params: { temperature: 0.2 }, want: (y) => ref.simclr(y, VIEWS, 0.2) },
  hsic: { params: { bandwidth: 1.3 }, want: (y, a) => -ref.hsic(a, y, 1.3, 1.3) },
  vicreg: {
    params: { invariance: 3, variance: 7, covariance: 11 },
    want: (y) => ref.vicreg(y, VIEWS, 3, 7, 11),
  },
};

function lossValue(name: LossName, params: Record<string, number>, y: Float32Array, a: Float32Array): number {
  const backend = cpuBackend();
  const [t] = tidy((): Tensor[] => [
    lossFor(name, params)({
      y: tensor(y, [M, D], { backend }),
      anchors: tensor(a, [M, D], { backend }),
      views: VIEWS,
      seed: SEED,
      step: STEP,
    }),
  ]);
  try {
    assert.deepEqual(t.shape, [1, 1]);
    return t.toArraySync()[0];
  } finally {
    t.dispose();
  }
}

Deno.test("loss registry: every loss has a case here, and each case sets every parameter off its default", () => {
  assert.deepEqual(Object.keys(CASES).sort(), [...LOSSES.names].sort());
  for (const [name, c] of Object.entries(CASES) as [LossName, Case][]) {
    const spec = LOSSES.get(name);
    assert.equal(spec.name, name, `LOSSES.get("${name}") holds the entry of ${spec.name}`);
    assert.deepEqual(Object.keys(c.params).sort(), Object.keys(spec.params).sort(), name);
    for (const [k, v] of Object.entries(c.params)) assert.notEqual(v, spec.params[k].default, `${name}.${k}`);
  }
});

for (const name of Object.keys(CASES) as LossName[]) {
  Deno.test(`loss registry: lossFor("${name}", non-default params) equals the float64 reference`, () => {
    const { y, anchors } = batchData();
    const c = CASES[name];
    const got = lossValue(name, c.params, y, anchors);
    const want = c.want(ref.m64(M, D, y), ref.m64(M, D, anchors));
    assert.ok(
      Math.abs(got - want) <= 1e-5 * Math.max(Math.abs(want), 1e-3),
      `${name} ${JSON.stringify(c.params)}: got ${got}, float64 reference ${want}`,
    );
    // The parameters matter at these inputs: each one moved back to its default changes the value,
    // so a wrapper that dropped it would have been seen above.
    for (const [k, p] of Object.entries(LOSSES.get(name).params)) {
      const rest = { ...c.params };
      if (p.default === undefined) delete rest[k];
      else rest[k] = p.default;
      const other = lossValue(name, rest, y, anchors);
      assert.ok(
        Math.abs(other - got) > 1e-4 * Math.max(Math.abs(got), 1e-3),
        `${name}.${k}: ${got} with ${c.params[k]}, ${other} with the default`,
      );
    }
  });
}

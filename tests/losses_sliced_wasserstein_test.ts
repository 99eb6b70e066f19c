/**
 * Sliced Wasserstein: the plain-function API against POT 0.8.2 golden values
 * (tests/golden/make_sliced_wasserstein.py), the tensor version's properties, and its errors.
 */
import { TensorError } from "../src/errors.ts";
import assert from "node:assert/strict";
import {
  directionsTensor,
  MAX_LCM_FACTOR,
  randomDirections,
  slicedWasserstein,
  swDistance,
} from "../src/methods/sliced_wasserstein.ts";
import { param, tensor } from "../src/tensor/ops.ts";
import { grad } from "../src/tensor/autograd.ts";
import { wacoLoss } from "../src/methods/losses/waco.ts";
import { tidy } from "../src/tensor/tensor.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { cpuBackend, normals } from "./golden/losses_backends.ts";
import * as ref from "./golden/losses_reference.ts";

interface GoldenCase {
  name: string;
  n: number;
  m: number;
  d: number;
  P: number;
  p: number;
  x: number[];
  y: number[];
  directions: number[];
  sw: number;
}

const golden = JSON.parse(
  Deno.readTextFileSync(new URL("./golden/sliced_wasserstein.json", import.meta.url)),
) as { library: string; cases: GoldenCase[] };

Deno.test("slicedWasserstein matches POT's sliced_wasserstein_distance to 1e-5 relative", () => {
  assert.ok(golden.cases.length >= 6);
  assert.ok(golden.cases.some((c) => c.p === 1) && golden.cases.some((c) => c.p === 2));
  assert.ok(golden.cases.some((c) => c.n !== c.m));
  let worst = 0;
  for (const c of golden.cases) {
    const x = new Float32Array(c.x), y = new Float32Array(c.y), dirs = new Float32Array(c.directions);
    const got = slicedWasserstein(x, y, c.n, c.m, c.d, dirs, c.p);
    const rel = Math.abs(got - c.sw) / Math.abs(c.sw);
    worst = Math.max(worst, rel);
    assert.ok(rel <= 1e-5, `${c.name}: got ${got}, POT ${c.sw} (relative error ${rel.toExponential(2)})`);
    // The float64 reference (quantile-integral form for n ≠ m) agrees with POT too.
    const want = ref.slicedWasserstein(ref.m64(c.n, c.d, x), ref.m64(c.m, c.d, y), dirs, c.p);
    assert.ok(Math.abs(want - c.sw) <= 1e-12 * c.sw, `${c.name}: float64 reference ${want} vs POT ${c.sw}`);
  }
  console.log(`max relative error vs ${golden.library}: ${worst.toExponential(2)}`);
});

Deno.test("slicedWasserstein: m undefined means m = n; SW(A, A) = 0", () => {
  const n = 20, d = 4, P = 12;
  const x = normals("sw-aa", n * d);
  const dirs = randomDirections(new CounterRng(1, "sw-aa"), P, d);
  assert.equal(slicedWasserstein(x, x, n, undefined, d, dirs, 2), 0);
  assert.equal(slicedWasserstein(x, x, n, n, d, dirs, 1), 0);
  // A row permutation of the same cloud is the same distribution.
  const y = new Float32Array(n * d);
  for (let i = 0; i < n; i++) y.set(x.subarray(((i * 7) % n) * d, ((i * 7) % n + 1) * d), i * d);
  assert.equal(slicedWasserstein(x, y, n, undefined, d, dirs, 2), 0);
});

Deno.test("slicedWasserstein: unequal sizes with a large lcm are refused with a clear error", () => {
  const d = 2, dirs = new Float32Array([1, 0]);
  const n = 97, m = 89; // coprime: lcm = 8633 > 16·97
  assert.ok(n * m > MAX_LCM_FACTOR * n);
  assert.throws(
    () => slicedWasserstein(normals("a", n * d), normals("b", m * d), n, m, d, dirs, 2),
    (e: Error) =>
      e instanceof TensorError && /unequal sizes/.test(e.message) && /equal sizes/.test(e.message),
  );
  assert.throws(() => slicedWasserstein(normals("a", 6), normals("b", 6), 3, 3, 2, dirs, 0.5), /p ≥ 1/);
  assert.throws(
    () => slicedWasserstein(normals("a", 6), normals("b", 6), 3, 3, 2, new Float32Array(3), 2),
    /P·d/,
  );
  assert.throws(
    () => slicedWasserstein(normals("a", 5), normals("b", 6), 3, 3, 2, dirs, 2),
    /x has 5 values/,
  );
});

Deno.test("randomDirections: unit rows, reproducible, prefix-stable in the count", () => {
  const a = randomDirections(new CounterRng(7, "waco", 3), 50, 9);
  const b = randomDirections(new CounterRng(7, "waco", 3), 20, 9);
  const c = randomDirections(new CounterRng(7, "waco", 4), 20, 9);
  for (let k = 0; k < 50; k++) {
    let s = 0;
    for (let j = 0; j < 9; j++) s += a[k * 9 + j] ** 2;
    assert.ok(Math.abs(s - 1) < 1e-6, `direction ${k} has squared norm ${s}`);
  }
  assert.deepEqual(a.subarray(0, 180), b);
  assert.notDeepEqual(b, c);
});

Deno.test("swDistance: tensor form, shape [1, 1], equals the plain function; bad shapes named", async () => {
  const backend = cpuBackend();
  const n = 24, d = 5, P = 16;
  const x = normals("swt-x", n * d), y = normals("swt-y", n * d, 2, 0.3);
  const dirs = randomDirections(new CounterRng(0, "swt"), P, d);
  const [out] = tidy(() => {
    const a = tensor(x, [n, d], { backend }), b = tensor(y, [n, d], { backend });
    return [swDistance(a, b, directionsTensor(dirs, P, d, backend), 2)];
  });
  assert.deepEqual(out.shape, [1, 1]);
  assert.equal(await out.item(), slicedWasserstein(x, y, n, n, d, dirs, 2));
  out.dispose();
  tidy(() => {
    const a = tensor(x, [n, d], { backend });
    // Directions passed as [P, d] instead of [d, P].
    assert.throws(() => swDistance(a, a, tensor(dirs, [P, d], { backend })), /directions \[16, 5\]/);
    return [];
  });
});

Deno.test("swDistance: identical clouds give 0 with a zero gradient (a norm's subgradient), not NaN", async () => {
  const backend = cpuBackend();
  const n = 6, d = 4, P = 10;
  const x = normals("sw0-x", n * d);
  const dirs = randomDirections(new CounterRng(0, "sw0"), P, d);
  for (const p of [2, 3]) {
    const a = param(x, [n, d], backend);
    const [value, g] = tidy(() => {
      const sw = swDistance(a, tensor(x, [n, d], { backend }), directionsTensor(dirs, P, d, backend), p);
      return [sw, grad(sw, [a])[0]];
    });
    assert.equal(await value.item(), 0);
    assert.deepEqual([...await g.toArray()], new Array(n * d).fill(0), `p = ${p}`);
    for (const t of [a, value, g]) t.dispose();
  }
});

Deno.test("WaCo on a batch of one clean input (its anchors identical, dep = depX = 0) has a finite gradient", async () => {
  // The last batch of an epoch holds one input when the train split is ≡ 1 modulo the batch size.
  const backend = cpuBackend();
  const views = 4, d = 8;
  const anchor = normals("waco1-x", d);
  const anchors = new Float32Array(views * d);
  for (let r = 0; r < views; r++) anchors.set(anchor, r * d);
  const y = param(normals("waco1-y", views * d), [views, d], backend);
  const [loss, g] = tidy(() => {
    const l = wacoLoss(y, tensor(anchors, [views, d], { backend }), { seed: 0, step: 0, directions: 50 });
    return [l, grad(l, [y])[0]];
  });
  assert.equal(await loss.item(), -0);
  assert.ok((await g.toArray()).every(Number.isFinite), "gradient not finite");
  for (const t of [y, loss, g]) t.dispose();
});

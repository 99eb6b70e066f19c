/**
 * Forward values of the adapter losses against the float64 references of
 * tests/golden/losses_reference.ts on small inputs: on cpu, and on webgpu where an adapter exists
 * (the same small shapes; a software rasteriser is slow).
 */
import assert from "node:assert/strict";
import type { Backend } from "../src/tensor/backend.ts";
import { tensor } from "../src/tensor/ops.ts";
import { type Tensor, tidy } from "../src/tensor/tensor.ts";
import { hsic, hsicLoss } from "../src/methods/losses/hsic.ts";
import { mawaLoss } from "../src/methods/losses/mawa.ts";
import { simclrLoss } from "../src/methods/losses/simclr.ts";
import { vicregLoss } from "../src/methods/losses/vicreg.ts";
import { swcTerms, wacoDraws, wacoLoss } from "../src/methods/losses/waco.ts";
import { directionsTensor, randomDirections, swDistance } from "../src/methods/sliced_wasserstein.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { cpuBackend, normals, webgpuBackend } from "./golden/losses_backends.ts";
import * as ref from "./golden/losses_reference.ts";

const N = 6, VIEWS = 3, M = N * VIEWS, D = 5, DY = 3;

/** Clean features repeated VIEWS times (the anchors) and adapter outputs correlated with them. */
function inputs(dY = DY) {
  const clean = normals("fwd-clean", N * D);
  const x = new Float32Array(M * D);
  for (let k = 0; k < VIEWS; k++) x.set(clean, k * N * D);
  const noise = normals("fwd-noise", M * dY, 0.5);
  const y = new Float32Array(M * dY);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < dY; j++) y[i * dY + j] = x[i * D + j] * 0.8 + noise[i * dY + j];
  }
  return { x, y };
}

async function value(fn: () => Tensor): Promise<number> {
  const [t] = tidy(() => [fn()]);
  try {
    assert.deepEqual(t.shape, [1, 1]);
    return await t.item();
  } finally {
    t.dispose();
  }
}

function close(got: number, want: number, rtol: number, what: string): void {
  assert.ok(Number.isFinite(got), `${what}: got ${got}`);
  assert.ok(
    Math.abs(got - want) <= rtol * Math.max(Math.abs(want), 1e-3),
    `${what}: got ${got}, float64 reference ${want} (relative ${
      (Math.abs(got - want) / Math.abs(want)).toExponential(2)
    })`,
  );
}

async function checkAll(backend: Backend, full: boolean): Promise<void> {
  const { x, y } = inputs();
  const X = ref.m64(M, D, x), Y = ref.m64(M, DY, y);
  const t = (data: Float32Array, cols: number) => tensor(data, [data.length / cols, cols], { backend });

  // Sliced Wasserstein, p = 1, 2, 3.
  const dirs = randomDirections(new CounterRng(3, "fwd"), 24, D);
  const y5 = normals("fwd-sw", M * D, 1.5, 0.2);
  for (const p of full ? [1, 2, 3] : [2]) {
    const got = await value(() => swDistance(t(x, D), t(y5, D), directionsTensor(dirs, 24, D, backend), p));
    close(got, ref.slicedWasserstein(X, ref.m64(M, D, y5), dirs, p), 1e-5, `SW_${p} ${backend.name}`);
  }

  // WaCo with d' ≠ d: every term.
  const draws = wacoDraws(11, 4, M, D, DY, 32);
  const want = ref.swc(X, Y, draws);
  const terms = tidy(() => {
    const r = swcTerms(t(x, D), t(y, DY), draws);
    return [r.dep, r.depX, r.depY, r.swc];
  });
  const got = await Promise.all(terms.map((v) => v.item()));
  terms.forEach((v) => v.dispose());
  close(got[0], want.dep, 1e-5, `waco dep ${backend.name}`);
  close(got[1], want.depX, 1e-5, `waco depX ${backend.name}`);
  close(got[2], want.depY, 1e-5, `waco depY ${backend.name}`);
  close(got[3], want.swc, 1e-5, `waco SWC ${backend.name}`);
  const loss = await value(() => wacoLoss(t(y, DY), t(x, D), { seed: 11, step: 4, directions: 32 }));
  close(loss, -want.swc, 1e-5, `wacoLoss ${backend.name}`);
  // The dependence exponent q of the paper's code: SWC = dep / (depX · depY + 1e-10)^(1/q).
  for (const q of full ? [1, 3, 0.5] : [1]) {
    const swcQ = await value(() => swcTerms(t(x, D), t(y, DY), draws, 2, q).swc);
    close(swcQ, ref.swc(X, Y, draws, 2, q).swc, 1e-5, `waco SWC q=${q} ${backend.name}`);
    const lossQ = await value(() => wacoLoss(t(y, DY), t(x, D), { seed: 11, step: 4, directions: 32, q }));
    close(lossQ, -ref.swc(X, Y, draws, 2, q).swc, 1e-5, `wacoLoss q=${q} ${backend.name}`);
  }

  // SimCLR, two temperatures.
  for (const tau of full ? [0.5, 0.1] : [0.5]) {
    const got = await value(() => simclrLoss(t(y, DY), VIEWS, { temperature: tau }));
    close(got, ref.simclr(Y, VIEWS, tau), 1e-5, `simclr τ=${tau} ${backend.name}`);
  }

  // HSIC with the median heuristic, and with a given bandwidth.
  const hm = await value(() => hsic(t(x, D), t(y, DY)));
  close(
    hm,
    ref.hsic(X, Y, ref.medianDistance(X), ref.medianDistance(Y)),
    1e-4,
    `hsic median ${backend.name}`,
  );
  if (full) {
    const hb = await value(() => hsicLoss(t(y, DY), t(x, D), { bandwidth: 1.7 }));
    close(hb, -ref.hsic(X, Y, 1.7, 1.7), 1e-4, `hsicLoss σ=1.7 ${backend.name}`);
  }

  // VICReg (d' = d = 5 here to exercise the covariance term on a wider matrix).
  const yv = normals("fwd-vic", M * D, 0.7);
  const gotV = await value(() => vicregLoss(t(yv, D), VIEWS));
  close(gotV, ref.vicreg(ref.m64(M, D, yv), VIEWS), 1e-5, `vicreg ${backend.name}`);
  if (full) {
    const w = await value(() => vicregLoss(t(yv, D), VIEWS, { invariance: 1, variance: 2, covariance: 3 }));
    close(w, ref.vicreg(ref.m64(M, D, yv), VIEWS, 1, 2, 3), 1e-5, `vicreg weights ${backend.name}`);
    // MaWa, for completeness (d' = d).
    const mw = await value(() => mawaLoss(t(yv, D), t(x, D)));
    let s = 0;
    for (let i = 0; i < x.length; i++) s += (yv[i] - x[i]) ** 2;
    close(mw, s / M, 1e-5, `mawa ${backend.name}`);
  }
}

Deno.test("loss forward values match the float64 references (cpu)", async () => {
  await checkAll(cpuBackend(), true);
});

Deno.test({
  name: "loss forward values match the float64 references (webgpu, subset)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const gpu = await webgpuBackend();
    await t.step({ name: "webgpu", ignore: gpu === null, fn: () => checkAll(gpu!, false) });
  },
});

Deno.test("simclr with s = 1 is the classic 2-view NT-Xent", async () => {
  const backend = cpuBackend();
  const y = normals("ntx", 8 * 4);
  const got = await value(() => simclrLoss(tensor(y, [8, 4], { backend }), 2, { temperature: 0.3 }));
  close(got, ref.ntXentTwoViews(ref.m64(8, 4, y), 0.3), 1e-5, "NT-Xent");
});

Deno.test("vicreg with s = 1 is the two-branch VICReg loss", async () => {
  const backend = cpuBackend();
  const y = normals("vic2", 10 * 3, 0.4);
  const got = await value(() => vicregLoss(tensor(y, [10, 3], { backend }), 2));
  const Z = ref.m64(10, 3, y);
  const z0 = ref.m64(5, 3, Z.data.slice(0, 15)), z1 = ref.m64(5, 3, Z.data.slice(15));
  close(got, ref.vicregPair(z0, z1, 25, 25, 1), 1e-5, "VICReg s = 1");
});

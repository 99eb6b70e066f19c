/**
 * Convolution and max-pooling on the tensor core (src/nn/conv2d.ts): forward against a float64
 * direct convolution / pooling, gradients against central finite differences of the float64
 * reference, the index cache, errors, and webgpu against cpu (via `testBackends`).
 */
import { TensorError } from "../src/errors.ts";
import type { Backend } from "../src/tensor/backend.ts";
import { grad } from "../src/tensor/autograd.ts";
import { matmul, mul, relu, sum, tensor } from "../src/tensor/ops.ts";
import { type Tensor } from "../src/tensor/tensor.ts";
import {
  clearConvIndexCache,
  conv2d,
  convIndexCacheSize,
  flattenNhwc,
  im2colIndex,
  maxPool2d,
  nhwc,
} from "../src/nn/conv2d.ts";
import {
  assertClose,
  assertThrowsWith,
  cpuBackend,
  evaluate,
  type Outputs,
  testBackends,
  uniforms,
} from "./helpers.ts";

// ---- float64 references ---------------------------------------------------------------------

interface Geometry {
  b: number;
  h: number;
  w: number;
  c: number;
  oc: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
}

function outSize(g: Geometry): [number, number] {
  return [
    Math.floor((g.h + 2 * g.pad - g.kh) / g.stride) + 1,
    Math.floor((g.w + 2 * g.pad - g.kw) / g.stride) + 1,
  ];
}

/** Direct NHWC convolution in float64; weight rows (ky·KW + kx)·C + c. */
function refConv(
  g: Geometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias: ArrayLike<number>,
): Float64Array {
  const [oh, ow] = outSize(g);
  const out = new Float64Array(g.b * oh * ow * g.oc);
  for (let b = 0; b < g.b; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < g.oc; o++) {
          let s = bias[o];
          for (let ky = 0; ky < g.kh; ky++) {
            const y = oy * g.stride + ky - g.pad;
            if (y < 0 || y >= g.h) continue;
            for (let kx = 0; kx < g.kw; kx++) {
              const xx = ox * g.stride + kx - g.pad;
              if (xx < 0 || xx >= g.w) continue;
              for (let c = 0; c < g.c; c++) {
                s += x[((b * g.h + y) * g.w + xx) * g.c + c] * w[((ky * g.kw + kx) * g.c + c) * g.oc + o];
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * g.oc + o] = s;
        }
      }
    }
  }
  return out;
}

/** k×k, stride-k max-pool of an NHWC batch in float64. */
function refPool(b: number, h: number, w: number, c: number, k: number, x: ArrayLike<number>): Float64Array {
  const oh = Math.floor(h / k), ow = Math.floor(w / k);
  const out = new Float64Array(b * oh * ow * c);
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let m = -Infinity;
          for (let dy = 0; dy < k; dy++) {
            for (let dx = 0; dx < k; dx++) {
              m = Math.max(m, x[((n * h + oy * k + dy) * w + ox * k + dx) * c + ch]);
            }
          }
          out[((n * oh + oy) * ow + ox) * c + ch] = m;
        }
      }
    }
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Central differences of a float64 scalar function at `at`, one coordinate at a time. */
function finiteDiff(f: (v: Float64Array) => number, at: ArrayLike<number>, h = 1e-6): Float64Array {
  const v = Float64Array.from(at);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x0 = v[i];
    v[i] = x0 + h;
    const up = f(v);
    v[i] = x0 - h;
    const down = f(v);
    v[i] = x0;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

/** Distinct values (a scaled, seeded permutation of 0..n−1): no ties inside pooling windows. */
function distinct(label: string, n: number): Float32Array {
  const u = uniforms(label, n, 0, 1);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
  const out = new Float32Array(n);
  order.forEach((src, rank) => (out[src] = (rank - n / 2) / n));
  return out;
}

// ---- forward --------------------------------------------------------------------------------

/**
 * Checks against the float64 references run on cpu only; webgpu is held to cpu (and to the
 * references) on one tiny network below, which covers padding, pooling and every gradient path.
 * (Each WebGPU kernel costs seconds to compile on a software adapter.)
 */
const CPU_ONLY = { webgpu: false } as const;

const GEOMETRIES: Geometry[] = [
  { b: 2, h: 7, w: 6, c: 3, oc: 4, kh: 3, kw: 3, stride: 1, pad: 0 },
  { b: 2, h: 7, w: 6, c: 3, oc: 5, kh: 3, kw: 2, stride: 2, pad: 1 },
  { b: 1, h: 9, w: 9, c: 1, oc: 6, kh: 5, kw: 5, stride: 1, pad: 2 },
  { b: 3, h: 5, w: 4, c: 2, oc: 3, kh: 1, kw: 1, stride: 1, pad: 0 },
];

for (const g of GEOMETRIES) {
  const label = `b${g.b} ${g.h}×${g.w}×${g.c}→${g.oc} k${g.kh}×${g.kw} s${g.stride} p${g.pad}`;
  const xs = uniforms(`conv x ${label}`, g.b * g.h * g.w * g.c);
  const ws = uniforms(`conv w ${label}`, g.kh * g.kw * g.c * g.oc);
  const bs = uniforms(`conv b ${label}`, g.oc);
  testBackends(
    `conv2d forward ${label} matches the float64 direct convolution`,
    async (backend) => {
      const { out } = await evaluate(() => {
        const x = nhwc(tensor(xs, [g.b * g.h * g.w, g.c], { backend }), g.b, g.h, g.w);
        const y = conv2d(
          x,
          tensor(ws, [g.kh * g.kw * g.c, g.oc], { backend }),
          tensor(bs, [1, g.oc], { backend }),
          {
            kernel: [g.kh, g.kw],
            stride: g.stride,
            padding: g.pad,
          },
        );
        const [oh, ow] = outSize(g);
        if (y.height !== oh || y.width !== ow || y.batch !== g.b) {
          throw new Error(`output geometry ${y.height}×${y.width}`);
        }
        return { y: y.data };
      });
      assertClose(out.y, refConv(g, xs, ws, bs), { rtol: 1e-5, atol: 1e-5 }, `conv2d ${label}`);
      return out;
    },
    { float: { rtol: 1e-5, atol: 1e-5 } },
    CPU_ONLY,
  );
}

for (const [b, h, w, c] of [[2, 6, 4, 3], [1, 5, 7, 2], [2, 8, 8, 1]]) {
  const label = `${b}×${h}×${w}×${c}`;
  const xs = uniforms(`pool x ${label}`, b * h * w * c);
  testBackends(
    `maxPool2d 2×2 forward ${label} matches the float64 reference`,
    async (backend) => {
      const { out } = await evaluate(() => {
        const y = maxPool2d(nhwc(tensor(xs, [b * h * w, c], { backend }), b, h, w));
        if (y.height !== Math.floor(h / 2) || y.width !== Math.floor(w / 2)) {
          throw new Error("pool output geometry");
        }
        return { y: y.data };
      });
      assertClose(out.y, refPool(b, h, w, c, 2, xs), { rtol: 0, atol: 0 }, `maxPool2d ${label}`);
      return out;
    },
    { float: { rtol: 0, atol: 0 } },
    CPU_ONLY,
  );
}

testBackends(
  "maxPool2d 3×3 (window k = 3) matches the float64 reference",
  async (backend) => {
    const xs = uniforms("pool3 x", 2 * 7 * 6 * 2);
    const { out } = await evaluate(() => ({
      y: maxPool2d(nhwc(tensor(xs, [2 * 7 * 6, 2], { backend }), 2, 7, 6), 3).data,
    }));
    assertClose(out.y, refPool(2, 7, 6, 2, 3, xs), { rtol: 0, atol: 0 }, "maxPool2d k=3");
    return out;
  },
  { float: { rtol: 0, atol: 0 } },
  CPU_ONLY,
);

// ---- gradients ------------------------------------------------------------------------------

const GRAD_TOL = { rtol: 2e-4, atol: 2e-4 };

for (const g of [GEOMETRIES[0], GEOMETRIES[1]]) {
  const label = `${g.h}×${g.w}×${g.c}→${g.oc} k${g.kh}×${g.kw} s${g.stride} p${g.pad}`;
  const xs = uniforms(`conv grad x ${label}`, g.b * g.h * g.w * g.c);
  const ws = uniforms(`conv grad w ${label}`, g.kh * g.kw * g.c * g.oc);
  const bs = uniforms(`conv grad b ${label}`, g.oc);
  const [oh, ow] = outSize(g);
  const rs = uniforms(`conv grad r ${label}`, g.b * oh * ow * g.oc);
  testBackends(
    `conv2d gradients ${label} match finite differences`,
    async (backend) => {
      const { out } = await evaluate(() => {
        const x = tensor(xs, [g.b * g.h * g.w, g.c], { backend, requiresGrad: true });
        const w = tensor(ws, [g.kh * g.kw * g.c, g.oc], { backend, requiresGrad: true });
        const b = tensor(bs, [1, g.oc], { backend, requiresGrad: true });
        const y = conv2d(nhwc(x, g.b, g.h, g.w), w, b, {
          kernel: [g.kh, g.kw],
          stride: g.stride,
          padding: g.pad,
        });
        const loss = sum(mul(y.data, tensor(rs, y.data.shape, { backend })));
        const [gx, gw, gb] = grad(loss, [x, w, b]);
        return { gx, gw, gb };
      });
      const L = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
        dot(refConv(g, x, w, b), rs);
      assertClose(out.gx, finiteDiff((v) => L(v, ws, bs), xs), GRAD_TOL, `d/dx ${label}`);
      assertClose(out.gw, finiteDiff((v) => L(xs, v, bs), ws), GRAD_TOL, `d/dw ${label}`);
      assertClose(out.gb, finiteDiff((v) => L(xs, ws, v), bs), GRAD_TOL, `d/db ${label}`);
      return out;
    },
    { float: { rtol: 1e-4, atol: 1e-5 } },
    CPU_ONLY,
  );
}

testBackends(
  "maxPool2d gradient matches finite differences (one input per window gets it)",
  async (backend) => {
    const [b, h, w, c] = [2, 5, 6, 3];
    const xs = distinct("pool grad x", b * h * w * c);
    const rs = uniforms("pool grad r", b * 2 * 3 * c);
    const { out } = await evaluate(() => {
      const x = tensor(xs, [b * h * w, c], { backend, requiresGrad: true });
      const y = maxPool2d(nhwc(x, b, h, w));
      const [gx] = grad(sum(mul(y.data, tensor(rs, y.data.shape, { backend }))), [x]);
      return { gx };
    });
    assertClose(
      out.gx,
      finiteDiff((v) => dot(refPool(b, h, w, c, 2, v), rs), xs),
      GRAD_TOL,
      "maxPool2d d/dx",
    );
    return out;
  },
  { float: { rtol: 0, atol: 1e-7 } },
  CPU_ONLY,
);

testBackends(
  "conv → relu → pool → conv → flatten → linear (cpu and webgpu): loss and gradients match finite differences",
  async (backend) => {
    const g1: Geometry = { b: 2, h: 6, w: 6, c: 2, oc: 3, kh: 3, kw: 3, stride: 1, pad: 1 };
    const g2: Geometry = { b: 2, h: 3, w: 3, c: 3, oc: 2, kh: 2, kw: 2, stride: 1, pad: 0 };
    const xs = uniforms("net x", 2 * 6 * 6 * 2);
    const w1 = uniforms("net w1", 9 * 2 * 3), b1 = uniforms("net b1", 3, -0.1, 0.1);
    const w2 = uniforms("net w2", 4 * 3 * 2), b2 = uniforms("net b2", 2, -0.1, 0.1);
    const fw = uniforms("net fw", 2 * 2 * 2 * 3);
    const ref = (x: ArrayLike<number>, a: ArrayLike<number>, c: ArrayLike<number>): number => {
      const h1 = refConv(g1, x, a, b1).map((v) => Math.max(v, 0));
      const p = refPool(2, 6, 6, 3, 2, h1);
      const h2 = refConv(g2, p, c, b2); // [2·2·2, 2] → flatten [2, 8]
      let s = 0;
      for (let n = 0; n < 2; n++) {
        for (let j = 0; j < 8; j++) for (let o = 0; o < 3; o++) s += h2[n * 8 + j] * fw[j * 3 + o] * (o + 1);
      }
      return s;
    };
    const { out } = await evaluate(() => {
      const x = tensor(xs, [72, 2], { backend, requiresGrad: true });
      const a = tensor(w1, [18, 3], { backend, requiresGrad: true });
      const c = tensor(w2, [12, 2], { backend, requiresGrad: true });
      let h = conv2d(nhwc(x, 2, 6, 6), a, tensor(b1, [1, 3], { backend }), { kernel: [3, 3], padding: 1 });
      h = maxPool2d({ ...h, data: relu(h.data) });
      h = conv2d(h, c, tensor(b2, [1, 2], { backend }), { kernel: [2, 2] });
      const logits: Tensor = matmul(flattenNhwc(h), tensor(fw, [8, 3], { backend }));
      const loss = sum(mul(logits, tensor([1, 2, 3], [1, 3], { backend })));
      const [gx, ga, gc] = grad(loss, [x, a, c]);
      return { loss, gx, ga, gc };
    });
    assertClose(out.loss, [ref(xs, w1, w2)], { rtol: 1e-5, atol: 1e-5 }, "composite loss");
    assertClose(out.gx, finiteDiff((v) => ref(v, w1, w2), xs), GRAD_TOL, "composite d/dx");
    assertClose(out.ga, finiteDiff((v) => ref(xs, v, w2), w1), GRAD_TOL, "composite d/dw1");
    assertClose(out.gc, finiteDiff((v) => ref(xs, w1, v), w2), GRAD_TOL, "composite d/dw2");
    return out;
  },
  { float: { rtol: 1e-4, atol: 1e-5 } },
);

// ---- index, cache, errors --------------------------------------------------------------------

Deno.test("im2colIndex points out-of-image taps at the appended zero row", () => {
  const { index, outHeight, outWidth, padded } = im2colIndex(1, 2, 2, [3, 3], 1, 1);
  if (outHeight !== 2 || outWidth !== 2 || !padded) {
    throw new Error(`geometry ${outHeight}×${outWidth} padded ${padded}`);
  }
  // Output (0, 0): taps (−1..1, −1..1); only (0,0),(0,1),(1,0),(1,1) are inside.
  const first = Array.from(index.subarray(0, 9));
  const want = [4, 4, 4, 4, 0, 1, 4, 2, 3];
  if (first.join() !== want.join()) throw new Error(`index ${first} != ${want}`);
  if (im2colIndex(2, 4, 4, [3, 3]).padded) throw new Error("no padding, no zero row");
});

Deno.test({
  name: "index tensors are cached per geometry and survive tidy",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const backend: Backend = cpuBackend();
    clearConvIndexCache(backend);
    const run = async (): Promise<Outputs> =>
      (await evaluate(() => {
        const x = nhwc(tensor(uniforms("cache x", 2 * 5 * 5 * 2), [50, 2], { backend }), 2, 5, 5);
        const y = maxPool2d(conv2d(x, tensor(uniforms("cache w", 9 * 2 * 3), [18, 3], { backend }), null, {
          kernel: [3, 3],
          padding: 1,
        }));
        return { y: y.data };
      })).out;
    const a = await run();
    if (convIndexCacheSize(backend) !== 2) {
      throw new Error(`cache has ${convIndexCacheSize(backend)} geometries`);
    }
    const b = await run(); // the cached indices were not disposed by the first tidy
    assertClose(b.y, a.y, { rtol: 0, atol: 0 }, "second run");
    if (convIndexCacheSize(backend) !== 2) throw new Error("second run added geometries");
    clearConvIndexCache(backend);
    if (convIndexCacheSize(backend) !== 0) throw new Error("clear left geometries");
  },
});

Deno.test({
  name: "conv2d and maxPool2d reject bad shapes with messages that name them",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const backend = cpuBackend();
    {
      const x = nhwc(tensor(new Float32Array(2 * 4 * 4 * 3), [32, 3], { backend }), 2, 4, 4);
      await assertThrowsWith(
        () => conv2d(x, tensor(new Float32Array(9 * 2 * 5), [18, 5], { backend }), null, { kernel: [3, 3] }),
        TensorError,
        ["conv2d", "[18, 5]", "expected 27 rows"],
      );
      await assertThrowsWith(
        () =>
          conv2d(
            x,
            tensor(new Float32Array(27 * 5), [27, 5], { backend }),
            tensor([1, 2], [1, 2], { backend }),
            {
              kernel: [3, 3],
            },
          ),
        TensorError,
        ["bias [1, 2]", "expected [1, 5]"],
      );
      await assertThrowsWith(
        () => conv2d(x, tensor(new Float32Array(75 * 5), [75, 5], { backend }), null, { kernel: [5, 5] }),
        TensorError,
        ["does not fit 4×4"],
      );
      await assertThrowsWith(() => maxPool2d(x, 5), TensorError, ["larger than the 4×4"]);
      await assertThrowsWith(
        () => nhwc(tensor(new Float32Array(30), [10, 3], { backend }), 2, 4, 4),
        TensorError,
        ["[10, 3]", "expected 32 rows"],
      );
    }
  },
});

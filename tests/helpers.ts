/**
 * Shared test helpers: the backends under test, seeded inputs, tolerance checks, and
 * `testBackends`, which runs one check on every backend and then compares webgpu with cpu.
 */
import type { Backend, Shape } from "../src/tensor/backend.ts";
import { requestWebGpuAdapter } from "../src/tensor/request_adapter.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";
import { createWebGpuBackend } from "../src/tensor/backends/webgpu/backend.ts";
import { IndexTensor, Tensor, tidy } from "../src/tensor/tensor.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { type Mat, mat } from "./reference.ts";

// ---- backends --------------------------------------------------------------------------

let cpu: Backend | undefined;
let webgpu: Promise<Backend | null> | undefined;

export function cpuBackend(): Backend {
  return cpu ??= new CpuBackend();
}

/**
 * The WebGPU adapter the tests run on, or null where there is none (or INVBENCH_TEST_WEBGPU=0):
 * the WebGPU tests are then ignored. With INVBENCH_REQUIRE_WEBGPU=1 (CI sets it) a missing adapter
 * is an error instead, so a machine without one fails loudly rather than passing with the WebGPU
 * tests silently left out.
 */
export async function webgpuAdapter(): Promise<GPUAdapter | null> {
  const adapter = Deno.env.get("INVBENCH_TEST_WEBGPU") === "0" ? null : await requestWebGpuAdapter();
  if (!adapter && Deno.env.get("INVBENCH_REQUIRE_WEBGPU") === "1") {
    throw new Error(
      "INVBENCH_REQUIRE_WEBGPU=1 but no WebGPU adapter is available" +
        (Deno.env.get("INVBENCH_TEST_WEBGPU") === "0" ? " (INVBENCH_TEST_WEBGPU=0)" : "") +
        "; on Debian, `apt-get install mesa-vulkan-drivers` provides the llvmpipe software adapter",
    );
  }
  return adapter;
}

/** The WebGPU backend on the default adapter, or null where there is none (see `webgpuAdapter`). */
export function webgpuBackend(): Promise<Backend | null> {
  return webgpu ??= (async () => {
    const adapter = await webgpuAdapter();
    return adapter ? await createWebGpuBackend(adapter) : null;
  })();
}

// ---- inputs ----------------------------------------------------------------------------

/** Seeded uniforms in [lo, hi) as float32, from the stream (0, "tests", label). */
export function uniforms(label: string, n: number, lo = -1, hi = 1): Float32Array {
  return new CounterRng(0, "tests", label).uniforms(n, lo, hi);
}

/** Seeded standard normals as float32. */
export function normals(label: string, n: number, std = 1): Float32Array {
  return new CounterRng(0, "tests", label).normals(n, 0, std);
}

/** Uniforms in ±[lo, hi) with a random sign: bounded away from 0 (kinks of relu, abs, sign). */
export function awayFromZero(label: string, n: number, lo = 0.1, hi = 1): Float32Array {
  const rng = new CounterRng(0, "tests", label);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = lo + (hi - lo) * rng.uniform(2 * i);
    out[i] = rng.uniform(2 * i + 1) < 0.5 ? -m : m;
  }
  return out;
}

/** Seeded integers in [0, bound). */
export function ints(label: string, n: number, bound: number): number[] {
  const rng = new CounterRng(0, "tests", label);
  return Array.from({ length: n }, (_, i) => Math.floor(rng.uniform(i) * bound));
}

/** A float64 reference matrix holding exactly the float32 values the backends see. */
export function ref(rows: number, cols: number, data: ArrayLike<number>): Mat {
  return mat(rows, cols, data);
}

// ---- tolerance checks ------------------------------------------------------------------

/**
 * |got − want| ≤ atol·scale_i + rtol·|want_i| elementwise. `scale`, where given, multiplies atol
 * per element (e.g. Σ_k |a_ik||b_kj| for matmul, whose rounding error grows with it).
 */
export interface Tol {
  rtol: number;
  atol: number;
  scale?: ArrayLike<number>;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(9) : String(x);
}

/** Elementwise closeness within `tol`; NaN must meet NaN and ±Infinity the same infinity. */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    let ok: boolean;
    if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ok = g === w;
    else {
      ok = Math.abs(g - w) <= tol.atol * (tol.scale ? tol.scale[i] : 1) + tol.rtol * Math.abs(w);
    }
    if (!ok && bad.length < 6) bad.push(`[${i}] got ${fmt(g)}, expected ${fmt(w)}`);
    else if (!ok) bad.push("");
  }
  if (bad.length) {
    throw new Error(
      `${what}: ${bad.length} of ${got.length} values outside rtol ${tol.rtol}, atol ${tol.atol}: ` +
        bad.filter(Boolean).join("; "),
    );
  }
}

/** Exact equality of integer arrays. */
export function assertSameInts(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  const g = Array.from(got), w = Array.from(want);
  if (g.length !== w.length || g.some((x, i) => x !== w[i])) {
    throw new Error(`${what}: got [${g.slice(0, 40).join(", ")}], expected [${w.slice(0, 40).join(", ")}]`);
  }
}

function checkError(
  err: unknown,
  cls: new (...args: never[]) => Error,
  substrings: readonly string[],
): Error {
  if (err === undefined) {
    throw new Error(`expected a ${cls.name} containing ${JSON.stringify(substrings)}; nothing thrown`);
  }
  if (!(err instanceof cls)) throw new Error(`expected a ${cls.name}, got ${err}`);
  for (const s of substrings) {
    if (!err.message.includes(s)) {
      throw new Error(`${cls.name} message ${JSON.stringify(err.message)} lacks ${JSON.stringify(s)}`);
    }
  }
  return err;
}

/** Asserts that `fn` throws an error of class `cls` whose message contains every substring. */
export function assertThrowsWith(
  fn: () => unknown,
  cls: new (...args: never[]) => Error,
  substrings: readonly string[],
): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  return checkError(err, cls, substrings);
}

/** As `assertThrowsWith`, for an async `fn` that rejects. */
export async function assertRejectsWith(
  fn: () => Promise<unknown>,
  cls: new (...args: never[]) => Error,
  substrings: readonly string[],
): Promise<Error> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  return checkError(err, cls, substrings);
}

// ---- running ops -----------------------------------------------------------------------

export type Outputs = Record<string, Float32Array | Int32Array>;

/** Host copies of the tensors an op test returned, with their shapes. */
export interface Evaluated {
  out: Outputs;
  shape: Record<string, Shape>;
}

/**
 * Runs `fn` inside `tidy` (so inputs and intermediates are freed, which matters on WebGPU),
 * reads back the tensors it returns, and disposes them.
 */
export async function evaluate(fn: () => Record<string, Tensor | IndexTensor>): Promise<Evaluated> {
  const kept = tidy(fn);
  const ev: Evaluated = { out: {}, shape: {} };
  try {
    for (const [k, t] of Object.entries(kept)) {
      ev.out[k] = await t.toArray();
      ev.shape[k] = t.shape;
    }
  } finally {
    for (const t of Object.values(kept)) t.dispose();
  }
  return ev;
}

/** Checks output `key` of `ev` against a reference matrix: shape exactly, values within `tol`. */
export function checkMat(ev: Evaluated, key: string, want: Mat, tol: Tol): void {
  const sh = ev.shape[key];
  if (!sh) throw new Error(`no output ${key}`);
  if (sh[0] !== want.rows || sh[1] !== want.cols) {
    throw new Error(`${key}: shape [${sh[0]}, ${sh[1]}], expected [${want.rows}, ${want.cols}]`);
  }
  assertClose(ev.out[key], want.data, tol, key);
}

/** Checks index output `key`: shape and exact values. */
export function checkInts(ev: Evaluated, key: string, shape: Shape, want: ArrayLike<number>): void {
  const sh = ev.shape[key];
  if (!sh) throw new Error(`no output ${key}`);
  if (sh[0] !== shape[0] || sh[1] !== shape[1]) {
    throw new Error(`${key}: shape [${sh[0]}, ${sh[1]}], expected [${shape[0]}, ${shape[1]}]`);
  }
  assertSameInts(ev.out[key], want, key);
}

/** The tolerance between two backends that are each within `tol` of the reference. */
export function twice(tol: Tol): Tol {
  return { rtol: 2 * tol.rtol, atol: 2 * tol.atol, scale: tol.scale };
}

/** Tolerance between the two backends' outputs of one op on identical inputs. */
export interface CrossTol {
  /** Default for float outputs not named in `byKey`. */
  float: Tol;
  byKey?: Record<string, Tol | "skip">;
}

/**
 * Registers one Deno test that runs `check` on the cpu backend and on webgpu (a step each; the
 * webgpu step is ignored where no adapter exists, see `webgpuAdapter`), then compares the outputs
 * `check` returned directly: float outputs within `cross`, index outputs exactly.
 */
export function testBackends(
  name: string,
  check: (backend: Backend) => Promise<Outputs>,
  cross: CrossTol,
  opts: { webgpu?: boolean } = {},
): void {
  Deno.test({
    name,
    // The WebGPU device and its buffers live for the whole file, shared across tests.
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const results: Partial<Record<string, Outputs>> = {};
      await t.step("cpu", async () => {
        results.cpu = await check(cpuBackend());
      });
      // A cpu-only check (opts.webgpu false) has no webgpu steps at all, so that "ignored" in a
      // test summary only ever means a missing adapter.
      if (opts.webgpu === false) return;
      const gpu = await webgpuBackend();
      await t.step({
        name: "webgpu",
        ignore: gpu === null,
        fn: async () => {
          results.webgpu = await check(gpu!);
        },
      });
      const c = results.cpu, g = results.webgpu;
      await t.step({
        name: "webgpu == cpu",
        ignore: !c || !g,
        fn: () => {
          for (const key of Object.keys(c!)) {
            const a = g![key], b = c![key];
            const tol = cross.byKey?.[key] ?? cross.float;
            if (tol === "skip") continue;
            if (b instanceof Int32Array) assertSameInts(a, b, `${name}: ${key} webgpu vs cpu`);
            else assertClose(a, b, tol, `${name}: ${key} webgpu vs cpu`);
          }
        },
      });
    },
  });
}

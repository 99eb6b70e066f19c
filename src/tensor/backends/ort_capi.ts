/**
 * onnxruntime's C API through Deno's FFI, for the CPU backend's GEMM: the library onnxruntime-node
 * ships, a session per graph, and `Run` with tensors that wrap the caller's arrays, inputs and the
 * preallocated output alike. The Node binding cannot do the last: it copies every output into a
 * fresh ArrayBuffer after the run, even one passed in `fetches` (measured: a 1024×1024 output cost
 * 1025 page faults and a 4 MiB copy per product, about as long as the product itself).
 *
 * Functions are taken from the `OrtApi` table by index, counted in onnxruntime_c_api.h. The table
 * only grows at its end from release to release, so the indices of these early entries do not
 * change; the package pinned in package.json (1.30) is the one the tests run.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Indices into `OrtApi` (onnxruntime_c_api.h, in declaration order). */
const API = {
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateSessionFromArray: 8,
  Run: 9,
  CreateSessionOptions: 10,
  SetSessionExecutionMode: 13,
  SetSessionGraphOptimizationLevel: 23,
  SetIntraOpNumThreads: 24,
  SetInterOpNumThreads: 25,
  CreateTensorWithDataAsOrtValue: 49,
  CreateCpuMemoryInfo: 69,
  ReleaseStatus: 93,
  ReleaseSession: 95,
  ReleaseValue: 96,
  ReleaseSessionOptions: 100,
  AddSessionConfigEntry: 130,
} as const;

/** The API version asked for (onnxruntime 1.8's): every later release serves it. */
const ORT_API_VERSION = 8;
const ONNX_FLOAT = 1, ORT_ENABLE_ALL = 99, ORT_SEQUENTIAL = 0, ORT_ARENA_ALLOCATOR = 1, ORT_LOGGING_ERROR = 3;

type Ptr = Deno.PointerValue;
const P = "pointer" as const, B = "buffer" as const;

/** The library file onnxruntime-node loads on this platform. */
function libraryPath(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("onnxruntime-node/package.json"));
  const dir = join(
    root,
    "bin",
    "napi-v6",
    Deno.build.os === "windows" ? "win32" : Deno.build.os,
    Deno.build.arch === "x86_64" ? "x64" : "arm64",
  );
  // The names the Node binding itself loads, so that both use one copy of the library.
  const file = Deno.build.os === "windows"
    ? "onnxruntime.dll"
    : Deno.build.os === "darwin"
    ? "libonnxruntime.1.dylib"
    : "libonnxruntime.so.1";
  return join(dir, file);
}

const cString = (s: string) => new TextEncoder().encode(s + "\0");

/** The few C API functions the GEMM needs, bound once. */
class OrtCApi {
  readonly #fns: Record<keyof typeof API, Deno.UnsafeFnPointer<Deno.ForeignFunction>>;
  readonly #out = new BigUint64Array(1);
  readonly env: Ptr;
  readonly cpuMemory: Ptr;

  constructor() {
    const lib = Deno.dlopen(libraryPath(), { OrtGetApiBase: { parameters: [], result: P } });
    const base = new Deno.UnsafePointerView(lib.symbols.OrtGetApiBase()!);
    const getApi = new Deno.UnsafeFnPointer(base.getPointer(0)!, { parameters: ["u32"], result: P });
    const api = getApi.call(ORT_API_VERSION);
    if (!api) throw new Error(`onnxruntime's C API does not serve version ${ORT_API_VERSION}`);
    const table = new Deno.UnsafePointerView(api);
    const fn = (i: number, parameters: Deno.NativeType[], result: Deno.NativeResultType = P) =>
      new Deno.UnsafeFnPointer(table.getPointer(i * 8)!, { parameters, result });
    this.#fns = {
      GetErrorMessage: fn(API.GetErrorMessage, [P]),
      CreateEnv: fn(API.CreateEnv, ["i32", B, B]),
      CreateSessionFromArray: fn(API.CreateSessionFromArray, [P, B, "usize", P, B]),
      Run: fn(API.Run, [P, P, B, B, "usize", B, "usize", B]),
      CreateSessionOptions: fn(API.CreateSessionOptions, [B]),
      SetSessionExecutionMode: fn(API.SetSessionExecutionMode, [P, "i32"]),
      SetSessionGraphOptimizationLevel: fn(API.SetSessionGraphOptimizationLevel, [P, "i32"]),
      SetIntraOpNumThreads: fn(API.SetIntraOpNumThreads, [P, "i32"]),
      SetInterOpNumThreads: fn(API.SetInterOpNumThreads, [P, "i32"]),
      CreateTensorWithDataAsOrtValue: fn(API.CreateTensorWithDataAsOrtValue, [
        P,
        B,
        "usize",
        B,
        "usize",
        "i32",
        B,
      ]),
      CreateCpuMemoryInfo: fn(API.CreateCpuMemoryInfo, ["i32", "i32", B]),
      ReleaseStatus: fn(API.ReleaseStatus, [P], "void"),
      ReleaseSession: fn(API.ReleaseSession, [P], "void"),
      ReleaseValue: fn(API.ReleaseValue, [P], "void"),
      ReleaseSessionOptions: fn(API.ReleaseSessionOptions, [P], "void"),
      AddSessionConfigEntry: fn(API.AddSessionConfigEntry, [P, B, B]),
    };
    // One environment per process: onnxruntime hands back the one the Node binding made, if any.
    this.env = this.#created((out) => this.#call("CreateEnv", ORT_LOGGING_ERROR, cString("invbench"), out));
    this.cpuMemory = this.#created((out) => this.#call("CreateCpuMemoryInfo", ORT_ARENA_ALLOCATOR, 0, out));
  }

  /** Calls a status-returning function; a non-null status becomes an Error with its message. */
  #call(name: keyof typeof API, ...args: unknown[]): void {
    const status = this.#fns[name].call(...(args as never[])) as Ptr;
    if (status === null) return;
    const message = Deno.UnsafePointerView.getCString(
      this.#fns.GetErrorMessage.call(status) as NonNullable<Ptr>,
    );
    this.#fns.ReleaseStatus.call(status);
    throw new Error(`onnxruntime ${name}: ${message}`);
  }

  /** The pointer a creating function writes to its last argument. */
  #created(create: (out: BigUint64Array) => void): NonNullable<Ptr> {
    this.#out[0] = 0n;
    create(this.#out);
    return Deno.UnsafePointer.create(this.#out[0])!;
  }

  /** A session over the serialised model `bytes` with `threads` intra-op threads (no spinning). */
  session(bytes: Uint8Array, threads: number): NonNullable<Ptr> {
    const options = this.#created((out) => this.#call("CreateSessionOptions", out));
    try {
      this.#call("SetIntraOpNumThreads", options, threads);
      this.#call("SetInterOpNumThreads", options, 1);
      this.#call("SetSessionExecutionMode", options, ORT_SEQUENTIAL);
      this.#call("SetSessionGraphOptimizationLevel", options, ORT_ENABLE_ALL);
      this.#call("AddSessionConfigEntry", options, cString("session.intra_op.allow_spinning"), cString("0"));
      return this.#created((out) =>
        this.#call("CreateSessionFromArray", this.env, bytes, bytes.byteLength, options, out)
      );
    } finally {
      this.#fns.ReleaseSessionOptions.call(options);
    }
  }

  releaseSession(session: Ptr): void {
    this.#fns.ReleaseSession.call(session);
  }

  /** A float tensor over `data` (not copied; valid while `data` is), released by `releaseValue`. */
  tensor(data: Float32Array, dims: BigInt64Array): NonNullable<Ptr> {
    return this.#created((out) =>
      this.#call(
        "CreateTensorWithDataAsOrtValue",
        this.cpuMemory,
        data,
        data.byteLength,
        dims,
        dims.length,
        ONNX_FLOAT,
        out,
      )
    );
  }

  releaseValue(value: Ptr): void {
    this.#fns.ReleaseValue.call(value);
  }

  /** Runs `session` on input values named `inputNames`, writing into the given output values. */
  run(
    session: Ptr,
    inputNames: BigUint64Array,
    inputs: BigUint64Array,
    outputNames: BigUint64Array,
    outputs: BigUint64Array,
  ): void {
    this.#call(
      "Run",
      session,
      null,
      inputNames,
      inputs,
      inputs.length,
      outputNames,
      outputNames.length,
      outputs,
    );
  }
}

let capi: OrtCApi | null | undefined;
let capiError: string | null = null;

/** The C API, or null (with `ortCApiError()` saying why) where it cannot be loaded. */
export function ortCApi(): OrtCApi | null {
  if (capi !== undefined) return capi;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      throw new Error("loading onnxruntime needs --allow-ffi");
    }
    capi = new OrtCApi();
  } catch (e) {
    capiError = e instanceof Error ? e.message : String(e);
    capi = null;
  }
  return capi;
}

/** Why `ortCApi()` is null, or null. */
export function ortCApiError(): string | null {
  ortCApi();
  return capiError;
}

/** A null-terminated name list for `run` (the strings are kept alive with it). */
export function nameList(names: readonly string[]): BigUint64Array {
  const strings = names.map(cString);
  const list = BigUint64Array.from(
    strings,
    (s) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s))),
  );
  keepAlive.push(strings);
  return list;
}
const keepAlive: Uint8Array[][] = [];

export type { OrtCApi, Ptr };

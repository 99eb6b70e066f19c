/**
 * The WGSL kernels the WebGPU backend runs (kernels/*.wgsl): each entry point with its storage
 * bindings and its uniform `Params`, by name and type in the order of the WGSL struct. When a
 * pipeline is built, the WGSL `struct Params` is parsed and checked against the entry, so a field
 * renamed or moved on one side fails naming the kernel and the field instead of reading garbage.
 */
import type { BinaryOp, UnaryOp } from "../../backend.ts";

/** Workgroup size of the 1-D kernels. */
export const WG = 256;
/** matmul.wgsl's output tile (rows and columns per workgroup) and its K tile. */
export const MATMUL_TILE = 64, MATMUL_BK = 16;

type Access = "r" | "w" | null;
type ParamType = "u32" | "f32";
/** A kernel's uniform fields in WGSL order. */
type Params = readonly (readonly [name: string, type: ParamType])[];

export interface KernelDef {
  readonly file: string;
  readonly entry: string;
  /** Storage bindings 1, 2, ...: read-only, read-write, or unused by this entry point. */
  readonly bindings: readonly Access[];
  readonly params: Params;
}

const u32 = (...names: string[]): Params => names.map((n) => [n, "u32"] as const);
const f32 = (...names: string[]): Params => names.map((n) => [n, "f32"] as const);

const MATMUL = u32("m", "n", "k", "k_start", "k_end", "accumulate", "tiles_n", "num_tiles");
const UNARY = [...u32("n", "pow_mode", "pow_exp", "pow_neg", "pow_odd"), ...f32("param")];
const BINARY = u32("n", "cols", "a_rs", "a_cs", "b_rs", "b_cs");
const REDUCE = u32("n_out", "n_chunks", "len", "chunk", "in_outer", "in_step", "out_outer", "out_chunk");
const SORT = u32("rows", "cols", "p", "total", "k_max", "k", "j", "int_keys", "num_groups");
const GATHER = u32("total", "cols", "src_rows", "src_cols");
const SCATTER = u32("total", "cols", "len", "p", "start", "chunk", "first", "elems");
const TRANSPOSE = u32("rows", "cols", "tiles_c", "num_tiles");
const COPY = u32("total", "cols", "src_cols", "src_row", "src_col", "dst_cols", "dst_row", "dst_col");
const SELECT = u32("n", "k1", "k2");
const SELECT_BINDINGS = ["r", "w", "w", "w"] as const;
const ADAMW = [
  ...u32("n"),
  ...f32("lr", "lr_wd", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "eps", "bc1", "bc2"),
];

export const KERNELS = {
  matmul: { file: "matmul.wgsl", entry: "main", bindings: ["r", "r", "w"], params: MATMUL },
  unary: { file: "unary.wgsl", entry: "main", bindings: ["r", "w"], params: UNARY },
  binary: { file: "binary.wgsl", entry: "main", bindings: ["r", "r", "w"], params: BINARY },
  sumSerial: { file: "reduce_sum.wgsl", entry: "serial", bindings: ["r", "w"], params: REDUCE },
  sumCoop: { file: "reduce_sum.wgsl", entry: "coop", bindings: ["r", "w"], params: REDUCE },
  maxSerial: {
    file: "reduce_max.wgsl",
    entry: "serial",
    bindings: ["r", "r", "w", "w"],
    params: [...REDUCE, ...u32("has_idx")],
  },
  maxCoop: {
    file: "reduce_max.wgsl",
    entry: "coop",
    bindings: ["r", "r", "w", "w"],
    params: [...REDUCE, ...u32("has_idx")],
  },
  lseSerial: {
    file: "logsumexp.wgsl",
    entry: "serial",
    bindings: ["r", "w"],
    params: [...REDUCE, ...u32("in_pairs", "out_final")],
  },
  lseCoop: {
    file: "logsumexp.wgsl",
    entry: "coop",
    bindings: ["r", "w"],
    params: [...REDUCE, ...u32("in_pairs", "out_final")],
  },
  sortInit: { file: "sort_rows.wgsl", entry: "local_init", bindings: ["r", "w"], params: SORT },
  sortMerge: { file: "sort_rows.wgsl", entry: "local_merge", bindings: [null, "w"], params: SORT },
  sortGlobal: { file: "sort_rows.wgsl", entry: "global_step", bindings: [null, "w"], params: SORT },
  sortEmit: { file: "sort_rows.wgsl", entry: "emit", bindings: ["r", "w", "w", "w"], params: SORT },
  gatherRows: { file: "gather.wgsl", entry: "gather_rows", bindings: ["r", "r", "w"], params: GATHER },
  gatherElems: { file: "gather.wgsl", entry: "gather_elems", bindings: ["r", "r", "w"], params: GATHER },
  scatterAdd: { file: "scatter_add.wgsl", entry: "main", bindings: ["r", "r", "w"], params: SCATTER },
  transpose: { file: "transpose.wgsl", entry: "main", bindings: ["r", "w"], params: TRANSPOSE },
  copyBlock: { file: "copy_block.wgsl", entry: "main", bindings: ["r", "w"], params: COPY },
  adamw: { file: "adamw.wgsl", entry: "main", bindings: ["r", "w", "w", "w"], params: ADAMW },
  selectHistHi: { file: "select_rank.wgsl", entry: "hist_hi", bindings: SELECT_BINDINGS, params: SELECT },
  selectFindHi: { file: "select_rank.wgsl", entry: "find_hi", bindings: SELECT_BINDINGS, params: SELECT },
  selectHistLo: { file: "select_rank.wgsl", entry: "hist_lo", bindings: SELECT_BINDINGS, params: SELECT },
  selectFindLo: { file: "select_rank.wgsl", entry: "find_lo", bindings: SELECT_BINDINGS, params: SELECT },
} as const satisfies Record<string, KernelDef>;

export type KernelName = keyof typeof KERNELS;

/** unary.wgsl's op codes. */
export const UNARY_CODES: Record<UnaryOp, number> = {
  neg: 0,
  relu: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  abs: 5,
  sign: 6,
  step: 7,
  pow: 8,
  scale: 9,
  shift: 10,
};
/** binary.wgsl's op codes. */
export const BINARY_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };
/**
 * binary.wgsl's fused codes: relu(a + b) (bias and ReLU), a · step(b) (ReLU's gradient),
 * a + (b on the diagonal), exp(−(a / b)) and exp(a − b).
 */
export const FUSED_CODES = { addRelu: 6, mulStep: 7, addDiagonal: 8, gaussian: 9, expDiff: 10 } as const;

/** The uniform values of one dispatch of `kernel`, by field name. */
export type ParamValues = Readonly<Record<string, number>>;

/** The fields of the WGSL `struct Params` in `source`, in order (comments ignored). */
export function parseParamsStruct(source: string): [name: string, type: string][] {
  const m = /struct\s+Params\s*\{([^}]*)\}/.exec(source.replace(/\/\/[^\n]*/g, ""));
  if (!m) return [];
  return m[1].split(",").map((f) => f.trim()).filter(Boolean).map((f) => {
    const [name, type] = f.split(":").map((s) => s.trim());
    return [name, type];
  });
}

/** Throws unless `source`'s `struct Params` has exactly `kernel`'s params, in order and type. */
export function checkParams(kernel: string, def: KernelDef, source: string): void {
  const wgsl = parseParamsStruct(source);
  const where = `webgpu kernel ${kernel} (${def.file})`;
  const n = Math.max(wgsl.length, def.params.length);
  for (let i = 0; i < n; i++) {
    const [want, wantType] = def.params[i] ?? [];
    const [got, gotType] = wgsl[i] ?? [];
    if (want !== got || wantType !== gotType) {
      throw new Error(
        `${where}: struct Params field ${i} is ${got ? `"${got}: ${gotType}"` : "missing"}, ` +
          `but the kernel entry says ${want ? `"${want}: ${wantType}"` : "nothing"} ` +
          `(entry: ${def.params.map(([p]) => p).join(", ")})`,
      );
    }
  }
}

/** Writes `values` into a uniform slot as `def.params` lays them out; every field exactly once. */
export function writeParams(
  kernel: string,
  def: KernelDef,
  values: ParamValues,
  u32s: Uint32Array,
  f32s: Float32Array,
  base: number,
): void {
  for (const [i, [name, type]] of def.params.entries()) {
    const v = values[name];
    if (v === undefined) throw new Error(`webgpu ${kernel}: no value for uniform "${name}"`);
    if (type === "u32") u32s[base + i] = v;
    else f32s[base + i] = v;
  }
  if (Object.keys(values).length !== def.params.length) {
    const extra = Object.keys(values).filter((k) => !def.params.some(([p]) => p === k));
    throw new Error(`webgpu ${kernel}: unknown uniform(s) ${extra.join(", ")}`);
  }
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

export function nextPow2(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

/** Loop trips of one binary search over `len` sorted entries (while lo < hi). */
export function searchTrips(len: number): number {
  return Math.ceil(Math.log2(len + 1)) + 1;
}

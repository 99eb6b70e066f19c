// Stable per-row bitonic sort. Every row of `cols` keys is padded to p = next power of two with
// sentinel keys 0xffffffff and indices ≥ cols, and the rows are laid end to end in `scratch` as
// (key, source column) pairs (total = rows · p). Pairs compare lexicographically, so equal keys keep
// their source order (stable) and the result is fully deterministic.
//
// Keys: float data (int_keys = 0) maps through an order-preserving u32 key where every NaN becomes
// 0xffffffff (after +Inf) and -0 equals +0; int32 data (int_keys = 1) maps as bits ^ 0x80000000.
//
// Passes (host side): local_init sorts every 1024-element chunk of the flat array with all stages
// k ≤ min(p, 1024); for larger p, each stage k = 2048 .. p runs one global_step dispatch per
// j = k/2 .. 1024 and then local_merge for j = 512 .. 1. `emit` writes the sorted values and
// indices of a float sort. Within one row the bitonic direction is ascending at the final stage
// k = p, so each p-segment of the flat array ends up ascending.
//
// Trip-count bound: local_init loops log2(k_max) + log2(k_max)(log2(k_max) + 1)/2 ≤ 65 times,
// local_merge 10 times, global_step and emit have no loops, independent of rows and cols.
struct Params {
  rows: u32,
  cols: u32,
  p: u32,
  total: u32,
  k_max: u32,
  k: u32,
  j: u32,
  int_keys: u32,
  num_groups: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> scratch: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> out_values: array<u32>;
@group(0) @binding(4) var<storage, read_write> out_indices: array<u32>;

// Chunk of 1024 (key, index) pairs, packed four to a vec4: llvmpipe's compile time grows steeply
// with the element count of a workgroup array (through its zero-initialisation), so arrays of
// 256 vec4 compile in well under a second where 2048 scalars took minutes.
var<workgroup> sk: array<vec4<u32>, 256>;
var<workgroup> si: array<vec4<u32>, 256>;

// #include order_key.wgsl

fn greater(ka: u32, ia: u32, kb: u32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia > ib);
}

// Compare-exchange of pair t (0 ≤ t < 512) of stage (k, j) inside the chunk starting at `base`.
fn local_cas(t: u32, base: u32, k: u32, j: u32) {
  let i = 2u * t - (t & (j - 1u));
  let l = i + j;
  let asc = ((base + i) & k) == 0u || k >= params.p;
  let ka = sk[i >> 2u][i & 3u];
  let ia = si[i >> 2u][i & 3u];
  let kb = sk[l >> 2u][l & 3u];
  let ib = si[l >> 2u][l & 3u];
  if (greater(ka, ia, kb, ib) == asc) {
    sk[i >> 2u][i & 3u] = kb;
    si[i >> 2u][i & 3u] = ib;
    sk[l >> 2u][l & 3u] = ka;
    si[l >> 2u][l & 3u] = ia;
  }
}

fn local_stage(lid: u32, base: u32, k: u32, j: u32) {
  local_cas(lid, base, k, j);
  local_cas(lid + 256u, base, k, j);
  workgroupBarrier();
}

fn init_one(f: u32) -> vec2<u32> {
  let row = f / params.p;
  let col = f % params.p;
  if (f < params.total && col < params.cols) {
    let b = src[row * params.cols + col];
    return vec2<u32>(select(float_key(b), b ^ 0x80000000u, params.int_keys != 0u), col);
  }
  return vec2<u32>(0xffffffffu, col);
}

fn store_one(f: u32, key: u32, index: u32) {
  if (f < params.total) {
    scratch[f] = vec2<u32>(key, index);
  }
}

// Invocation lid owns elements 4·lid .. 4·lid + 3 of the chunk for loading and storing.
fn store_chunk(lid: u32, base: u32) {
  let f = base + 4u * lid;
  let k = sk[lid];
  let i = si[lid];
  store_one(f, k.x, i.x);
  store_one(f + 1u, k.y, i.y);
  store_one(f + 2u, k.z, i.z);
  store_one(f + 3u, k.w, i.w);
}

@compute @workgroup_size(256)
fn local_init(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.y * nwg.x + wid.x;
  if (w >= params.num_groups) {
    return;
  }
  let base = w * 1024u;
  let f = base + 4u * lid;
  let e0 = init_one(f);
  let e1 = init_one(f + 1u);
  let e2 = init_one(f + 2u);
  let e3 = init_one(f + 3u);
  sk[lid] = vec4<u32>(e0.x, e1.x, e2.x, e3.x);
  si[lid] = vec4<u32>(e0.y, e1.y, e2.y, e3.y);
  workgroupBarrier();
  for (var k = 2u; k <= params.k_max; k <<= 1u) {
    for (var j = k >> 1u; j > 0u; j >>= 1u) {
      local_stage(lid, base, k, j);
    }
  }
  store_chunk(lid, base);
}

@compute @workgroup_size(256)
fn local_merge(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.y * nwg.x + wid.x;
  if (w >= params.num_groups) {
    return;
  }
  let base = w * 1024u;
  let f = base + 4u * lid;
  let e0 = scratch[f];
  let e1 = scratch[f + 1u];
  let e2 = scratch[f + 2u];
  let e3 = scratch[f + 3u];
  sk[lid] = vec4<u32>(e0.x, e1.x, e2.x, e3.x);
  si[lid] = vec4<u32>(e0.y, e1.y, e2.y, e3.y);
  workgroupBarrier();
  for (var j = 512u; j > 0u; j >>= 1u) {
    local_stage(lid, base, params.k, j);
  }
  store_chunk(lid, base);
}

@compute @workgroup_size(256)
fn global_step(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (t >= params.total / 2u) {
    return;
  }
  let j = params.j;
  let i = 2u * t - (t & (j - 1u));
  let l = i + j;
  let asc = (i & params.k) == 0u || params.k >= params.p;
  let a = scratch[i];
  let b = scratch[l];
  if (greater(a.x, a.y, b.x, b.y) == asc) {
    scratch[i] = b;
    scratch[l] = a;
  }
}

@compute @workgroup_size(256)
fn emit(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (g >= params.rows * params.cols) {
    return;
  }
  let row = g / params.cols;
  let col = g % params.cols;
  let s = scratch[row * params.p + col];
  out_values[g] = src[row * params.cols + s.y];
  out_indices[g] = s.y;
}

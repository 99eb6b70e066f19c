// Max reduction with the index of the first maximum, one pass of a multi-pass scheme (same
// sequence/chunk layout as reduce_sum.wgsl). The first pass takes index t from the position in the
// sequence; later passes (has_idx = 1) carry the indices of the partial results in xi.
//
// Ordering: values compare through an order-preserving u32 key in which NaN is greater than
// everything (so NaN propagates, first NaN wins) and -0 equals +0; ties go to the smaller index,
// so the result is the first maximum whatever the combination order.
//
// Trip-count bound: `serial` loops `chunk` times, `coop` ceil(chunk / 256) + 8 times; the host
// keeps both within MAX_TRIPS_PER_INVOCATION.
struct Params {
  n_out: u32,
  n_chunks: u32,
  len: u32,
  chunk: u32,
  in_outer: u32,
  in_step: u32,
  out_outer: u32,
  out_chunk: u32,
  has_idx: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> xi: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> yi: array<u32>;

// (key, value bits, index) per invocation, packed in one vec4 array (llvmpipe compiles one array of
// 256 elements much faster than three).
var<workgroup> part: array<vec4<u32>, 256>;

// #include order_key.wgsl

fn better(k: u32, i: u32, bk: u32, bi: u32) -> bool {
  return k > bk || (k == bk && i < bi);
}

fn neg_inf() -> f32 {
  return bitcast<f32>(0xff800000u | (params.n_out & 0u));
}

@compute @workgroup_size(256)
fn serial(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (g >= params.n_out * params.n_chunks) {
    return;
  }
  let o = g % params.n_out;
  let q = g / params.n_out;
  let start = q * params.chunk;
  let end = min(params.len, start + params.chunk);
  var best_key = 0u;
  var best_val = neg_inf();
  var best_idx = 0xffffffffu;
  var p = o * params.in_outer + start * params.in_step;
  for (var t = start; t < end; t++) {
    let v = x[p];
    let k = float_key(bitcast<u32>(v));
    var i = t;
    if (params.has_idx != 0u) {
      i = xi[p];
    }
    if (better(k, i, best_key, best_idx)) {
      best_key = k;
      best_val = v;
      best_idx = i;
    }
    p += params.in_step;
  }
  let out = o * params.out_outer + q * params.out_chunk;
  y[out] = best_val;
  yi[out] = best_idx;
}

@compute @workgroup_size(256)
fn coop(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.y * nwg.x + wid.x;
  if (w >= params.n_out * params.n_chunks) {
    return;
  }
  let o = w / params.n_chunks;
  let q = w % params.n_chunks;
  let start = q * params.chunk;
  let end = min(params.len, start + params.chunk);
  let base = o * params.in_outer;
  var best_key = 0u;
  var best_val = neg_inf();
  var best_idx = 0xffffffffu;
  for (var t = start + lid; t < end; t += 256u) {
    let v = x[base + t];
    let k = float_key(bitcast<u32>(v));
    var i = t;
    if (params.has_idx != 0u) {
      i = xi[base + t];
    }
    if (better(k, i, best_key, best_idx)) {
      best_key = k;
      best_val = v;
      best_idx = i;
    }
  }
  part[lid] = vec4<u32>(best_key, bitcast<u32>(best_val), best_idx, 0u);
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let other = part[lid + s];
      let mine = part[lid];
      if (better(other.x, other.z, mine.x, mine.z)) {
        part[lid] = other;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let out = o * params.out_outer + q * params.out_chunk;
    let best = part[0];
    y[out] = bitcast<f32>(best.y);
    yi[out] = best.z;
  }
}

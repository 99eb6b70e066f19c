// Row-wise log Σ exp, one pass of a multi-pass scheme (same sequence/chunk layout as
// reduce_sum.wgsl). Every pass folds its chunk into a max-shifted pair (m, s) meaning
// exp(m) · s, combined stably: (m1, s1) ⊕ (m2, s2) = (M, s1·exp(m1 − M) + s2·exp(m2 − M)), M = max.
// The first pass reads plain values; later passes (in_pairs = 1) read pairs stored as
// x[2p], x[2p + 1]. Intermediate passes write pairs; the final pass (out_final = 1) writes
// m + log(s), with NaN propagating and ±Inf handled exactly.
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
  in_pairs: u32,
  out_final: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> part: array<vec2<f32>, 256>;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn special(bits: u32) -> f32 {
  return bitcast<f32>(bits | (params.n_out & 0u));
}

fn combine(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2<f32> {
  let neg_inf = special(0xff800000u);
  let pos_inf = special(0x7f800000u);
  if (is_nan(m1) || is_nan(m2)) {
    return vec2<f32>(special(0x7fc00000u), 1.0);
  }
  if (m2 == neg_inf) {
    return vec2<f32>(m1, s1);
  }
  if (m1 == neg_inf) {
    return vec2<f32>(m2, s2);
  }
  if (m1 == pos_inf || m2 == pos_inf) {
    return vec2<f32>(pos_inf, 1.0);
  }
  if (m1 >= m2) {
    return vec2<f32>(m1, s1 + s2 * exp(m2 - m1));
  }
  return vec2<f32>(m2, s1 * exp(m1 - m2) + s2);
}

fn element(p: u32) -> vec2<f32> {
  if (params.in_pairs != 0u) {
    return vec2<f32>(x[2u * p], x[2u * p + 1u]);
  }
  return vec2<f32>(x[p], 1.0);
}

fn emit(out: u32, r: vec2<f32>) {
  if (params.out_final != 0u) {
    let m = r.x;
    if (is_nan(m) || (bitcast<u32>(m) & 0x7fffffffu) == 0x7f800000u) {
      y[out] = m;
    } else {
      y[out] = m + log(r.y);
    }
  } else {
    y[2u * out] = r.x;
    y[2u * out + 1u] = r.y;
  }
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
  var r = vec2<f32>(special(0xff800000u), 0.0);
  var p = o * params.in_outer + start * params.in_step;
  for (var t = start; t < end; t++) {
    let e = element(p);
    r = combine(r.x, r.y, e.x, e.y);
    p += params.in_step;
  }
  emit(o * params.out_outer + q * params.out_chunk, r);
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
  var r = vec2<f32>(special(0xff800000u), 0.0);
  for (var t = start + lid; t < end; t += 256u) {
    let e = element(base + t);
    r = combine(r.x, r.y, e.x, e.y);
  }
  part[lid] = r;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let u = part[lid];
      let v = part[lid + s];
      part[lid] = combine(u.x, u.y, v.x, v.y);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    emit(o * params.out_outer + q * params.out_chunk, part[0]);
  }
}

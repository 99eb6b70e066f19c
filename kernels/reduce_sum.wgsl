// Sum reduction, one pass of a multi-pass scheme. The input is viewed as n_out independent
// sequences of length len: element t of sequence o lives at o * in_outer + t * in_step. Each pass
// splits every sequence into n_chunks chunks of `chunk` elements and writes one partial sum per
// (o, q) to o * out_outer + q * out_chunk; the host repeats passes until n_chunks = 1.
//
// Trip-count bound: `serial` loops `chunk` times per invocation, `coop` ceil(chunk / 256) + 8
// times (strided loop + tree); the host picks `chunk` so that both stay within
// MAX_TRIPS_PER_INVOCATION. Summation order depends only on the shape, so results are
// deterministic.
struct Params {
  n_out: u32,
  n_chunks: u32,
  len: u32,
  chunk: u32,
  in_outer: u32,
  in_step: u32,
  out_outer: u32,
  out_chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> part: array<f32, 256>;

// One invocation per (o, q); neighbouring invocations take neighbouring o (coalesced for axis 0).
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
  var acc = 0.0;
  var p = o * params.in_outer + start * params.in_step;
  for (var t = start; t < end; t++) {
    acc += x[p];
    p += params.in_step;
  }
  y[o * params.out_outer + q * params.out_chunk] = acc;
}

// One workgroup per (o, q) of a contiguous sequence (in_step = 1): strided per-invocation sums,
// then a fixed 8-level tree in workgroup memory.
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
  var acc = 0.0;
  for (var t = start + lid; t < end; t += 256u) {
    acc += x[base + t];
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      part[lid] = part[lid] + part[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    y[o * params.out_outer + q * params.out_chunk] = part[0];
  }
}

// Deterministic scatter-add without atomics. The host first sorts the destination indices with
// sort_rows.wgsl (int keys, stable), giving for every sorted row the (key, source position) pairs
// in ascending destination order and, within one destination, ascending source order. Then one
// invocation per output element binary-searches the run of its destination in the sorted row and
// sums the sources of that run in ascending source order.
//
//   elems = 0 (scatterAddRows): one sorted row of len = n keys; out[r, j] += src[s, j].
//   elems = 1 (scatterAddElems): one sorted row per output row i, len = k keys;
//                                out[i, c] += src[i, s].
//
// Trip-count bound: a pass handles positions [start, start + chunk) of each run: two binary
// searches of ≤ ceil(log2(len + 1)) trips each plus ≤ chunk trips. The host issues
// ceil(len / chunk) passes; the first writes (first = 1), later ones continue the running sum
// from out, so the additions happen in exactly ascending source order across passes.
struct Params {
  total: u32,
  cols: u32,
  len: u32,
  p: u32,
  start: u32,
  chunk: u32,
  first: u32,
  elems: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> sorted: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn lower_bound(base: u32, target_key: u32) -> u32 {
  var lo = 0u;
  var hi = params.len;
  while (lo < hi) {
    let mid = (lo + hi) >> 1u;
    if (sorted[base + mid].x < target_key) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  return lo;
}

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (g >= params.total) {
    return;
  }
  let r = g / params.cols;
  let j = g % params.cols;
  var base = 0u;
  var dest = r;
  if (params.elems != 0u) {
    base = r * params.p;
    dest = j;
  }
  let key = dest ^ 0x80000000u;
  let lo = lower_bound(base, key);
  let hi = lower_bound(base, key + 1u);
  var acc = 0.0;
  if (params.first == 0u) {
    acc = y[g];
  }
  let begin = lo + params.start;
  let end = min(hi, begin + params.chunk);
  for (var q = begin; q < end; q++) {
    let s = sorted[base + q].y;
    if (params.elems != 0u) {
      acc += src[r * params.len + s];
    } else {
      acc += src[s * params.cols + j];
    }
  }
  y[g] = acc;
}

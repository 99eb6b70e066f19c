// Gathers, one invocation per output element, no loops.
//   gather_rows:  out[i, j] = a[idx[i], j]      (out is [n, cols], a is [src_rows, cols])
//   gather_elems: out[i, j] = a[i, idx[i, j]]   (out is [r, cols = k], a is [r, src_cols])
// An index outside the source range yields 0 instead of reading out of bounds.
struct Params {
  total: u32,
  cols: u32,
  src_rows: u32,
  src_cols: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn gather_rows(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (g >= params.total) {
    return;
  }
  let i = g / params.cols;
  let j = g % params.cols;
  let r = idx[i];
  var v = 0.0;
  if (r >= 0 && u32(r) < params.src_rows) {
    v = a[u32(r) * params.cols + j];
  }
  y[g] = v;
}

@compute @workgroup_size(256)
fn gather_elems(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (g >= params.total) {
    return;
  }
  let i = g / params.cols;
  let c = idx[g];
  var v = 0.0;
  if (c >= 0 && u32(c) < params.src_cols) {
    v = a[i * params.src_cols + u32(c)];
  }
  y[g] = v;
}

// Copies a rows × cols block from src (row stride src_cols) at (src_row, src_col) into dst (row
// stride dst_cols) at (dst_row, dst_col), in place on dst; one invocation per element, no loops.
struct Params {
  total: u32,
  cols: u32,
  src_cols: u32,
  src_row: u32,
  src_col: u32,
  dst_cols: u32,
  dst_row: u32,
  dst_col: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

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
  let i = g / params.cols;
  let j = g % params.cols;
  dst[(params.dst_row + i) * params.dst_cols + params.dst_col + j] =
    src[(params.src_row + i) * params.src_cols + params.src_col + j];
}

// Transposed copy [rows, cols] → [cols, rows] through a 16×16 tile in workgroup memory (padded to
// 17 columns against bank conflicts), one workgroup per tile, no loops.
struct Params {
  rows: u32,
  cols: u32,
  tiles_c: u32,
  num_tiles: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> tile: array<f32, 272>;

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let t = wid.y * nwg.x + wid.x;
  if (t >= params.num_tiles) {
    return;
  }
  let r0 = (t / params.tiles_c) * 16u;
  let c0 = (t % params.tiles_c) * 16u;
  let r = r0 + lid.y;
  let c = c0 + lid.x;
  if (r < params.rows && c < params.cols) {
    tile[lid.y * 17u + lid.x] = a[r * params.cols + c];
  }
  workgroupBarrier();
  let orow = c0 + lid.y;
  let ocol = r0 + lid.x;
  if (orow < params.cols && ocol < params.rows) {
    y[orow * params.rows + ocol] = tile[lid.x * 17u + lid.y];
  }
}

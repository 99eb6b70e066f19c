// Bilinear inverse-mapped warp of a batch of CHW images (src/augment/warp_cpu.ts is the reference;
// the arithmetic below mirrors it line by line). One invocation per output value and no loops, so
// software adapters that cap loop iterations per invocation (llvmpipe: 65,535) cannot truncate it.
//
// mats[6i..6i+5] = [a, b, c, d, e, f]: the output pixel centre (x, y) of image i samples the
// source at (a·x + b·y + c, d·x + e·y + f), in pixel-centre units (pixel (row, col) at (col, row)).
// border 0: neighbours outside the image read fill[channel]; border 1: the position is clamped to
// the outermost pixel centres.

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  border: u32,
  total: u32,
  // Invocations per row of the 2-D dispatch (workgroups in x · 64).
  row_stride: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> mats: array<f32>;
@group(0) @binding(3) var<storage, read> fill: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

fn fetch(base: u32, x: i32, y: i32, f: f32) -> f32 {
  if (x < 0 || y < 0 || x >= i32(p.w) || y >= i32(p.h)) {
    return f;
  }
  return src[base + u32(y) * p.w + u32(x)];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.row_stride;
  if (i >= p.total) {
    return;
  }
  let x = i % p.w;
  let t = i / p.w;
  let y = t % p.h;
  let t2 = t / p.h;
  let ch = t2 % p.c;
  let img = t2 / p.c;
  let m = img * 6u;
  let fx = f32(x);
  let fy = f32(y);
  var sx = mats[m] * fx + mats[m + 1u] * fy + mats[m + 2u];
  var sy = mats[m + 3u] * fx + mats[m + 4u] * fy + mats[m + 5u];
  let wmax = f32(p.w - 1u);
  let hmax = f32(p.h - 1u);
  if (p.border == 1u) {
    sx = clamp(sx, 0.0, wmax);
    sy = clamp(sy, 0.0, hmax);
  }
  let x0f = floor(sx);
  let y0f = floor(sy);
  let ax = sx - x0f;
  let ay = sy - y0f;
  let x0 = i32(x0f);
  let y0 = i32(y0f);
  var x1 = x0 + 1;
  var y1 = y0 + 1;
  if (p.border == 1u) {
    x1 = min(x1, i32(p.w) - 1);
    y1 = min(y1, i32(p.h) - 1);
  }
  let base = (img * p.c + ch) * p.h * p.w;
  let f = fill[ch];
  let v00 = fetch(base, x0, y0, f);
  let v01 = fetch(base, x1, y0, f);
  let v10 = fetch(base, x0, y1, f);
  let v11 = fetch(base, x1, y1, f);
  dst[i] = (1.0 - ax) * ((1.0 - ay) * v00 + ay * v10) + ax * ((1.0 - ay) * v01 + ay * v11);
}

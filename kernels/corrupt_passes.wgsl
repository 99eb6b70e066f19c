// The corruption passes of src/augment/corrupt_passes.ts (the CPU reference; the arithmetic below
// mirrors src/augment/filters.ts): `correlate`, each plane correlated with a kh × kw kernel, and
// `remap`, output pixel k of every plane sampled bilinearly at (coords[k], coords[hw + k]) of its
// image. One invocation per output value; the only loop is over the kernel's taps (at most 17 × 17,
// far below llvmpipe's 65,535 iterations per loop).
//
// Border codes (filters.ts): 0 nearest (a a | a b c | c c), 1 reflect (b a | a b c | c b),
// 2 reflect101 (c b | a b c | b a).

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  kh: u32,
  kw: u32,
  border: u32,
  total: u32,
  // Invocations per row of the 2-D dispatch (workgroups in x · 64).
  row_stride: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
// correlate: the kernel, row-major; remap: per image, x coordinates then y coordinates.
@group(0) @binding(2) var<storage, read> aux: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

fn border_index(i: i32, n: i32) -> i32 {
  if (i >= 0 && i < n) {
    return i;
  }
  if (p.border == 0u || n == 1) {
    return select(n - 1, 0, i < 0);
  }
  if (p.border == 1u) {
    let period = 2 * n;
    let m = ((i % period) + period) % period;
    return select(period - 1 - m, m, m < n);
  }
  let period = 2 * n - 2;
  let m = ((i % period) + period) % period;
  return select(period - m, m, m < n);
}

fn invocation(gid: vec3<u32>) -> u32 {
  return gid.x + gid.y * p.row_stride;
}

@compute @workgroup_size(64)
fn correlate(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = invocation(gid);
  if (i >= p.total) {
    return;
  }
  let x = i32(i % p.w);
  let y = i32((i / p.w) % p.h);
  let base = (i / (p.w * p.h)) * p.h * p.w;
  let ry = i32(p.kh - 1u) / 2;
  let rx = i32(p.kw - 1u) / 2;
  var acc = 0.0;
  for (var t = 0u; t < p.kh * p.kw; t++) {
    let wt = aux[t];
    if (wt != 0.0) {
      let sy = border_index(y + i32(t / p.kw) - ry, i32(p.h));
      let sx = border_index(x + i32(t % p.kw) - rx, i32(p.w));
      acc += wt * src[base + u32(sy) * p.w + u32(sx)];
    }
  }
  dst[i] = acc;
}

@compute @workgroup_size(64)
fn remap(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = invocation(gid);
  if (i >= p.total) {
    return;
  }
  let hw = p.h * p.w;
  let k = i % hw;
  let plane = i / hw;
  let img = plane / p.c;
  let sx = aux[img * 2u * hw + k];
  let sy = aux[img * 2u * hw + hw + k];
  let x0f = floor(sx);
  let y0f = floor(sy);
  let ax = sx - x0f;
  let ay = sy - y0f;
  let xa = u32(border_index(i32(x0f), i32(p.w)));
  let xb = u32(border_index(i32(x0f) + 1, i32(p.w)));
  let ya = plane * hw + u32(border_index(i32(y0f), i32(p.h))) * p.w;
  let yb = plane * hw + u32(border_index(i32(y0f) + 1, i32(p.h))) * p.w;
  dst[i] = (1.0 - ay) * ((1.0 - ax) * src[ya + xa] + ax * src[ya + xb]) +
    ay * ((1.0 - ax) * src[yb + xa] + ax * src[yb + xb]);
}

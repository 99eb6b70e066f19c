// C = op(A) · op(B) for row-major f32 matrices; op transposes when TRANS_A / TRANS_B is set.
// A is stored [m, k] (or [k, m] when TRANS_A), B is stored [k, n] (or [n, k] when TRANS_B).
//
// Tiling: one workgroup of 16×16 invocations computes a 64×64 tile of C, each invocation a 4×4
// block (rows 4·ty .. 4·ty + 3, columns 4·tx .. 4·tx + 3). K is walked in tiles of 16 staged through
// workgroup memory; the 16 multiply-accumulate steps of a K tile are unrolled by hand.
//
// Trip-count bound: the only loop runs once per K tile of [k_start, k_end). The host splits K into
// ranges of at most MAX_TRIPS_PER_INVOCATION tiles and issues one dispatch per range, the later
// ones accumulating into C (accumulate = 1), so no invocation exceeds the bound however large k is.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  k_start: u32,
  k_end: u32,
  accumulate: u32,
  tiles_n: u32,
  num_tiles: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// tile_a[kk * 16 + mq] = op(A)[row0 + 4·mq .. row0 + 4·mq + 3, k0 + kk];
// tile_b[kk * 16 + nq] = op(B)[k0 + kk, col0 + 4·nq .. col0 + 4·nq + 3].
// (vec4 elements keep the workgroup arrays short: llvmpipe's compile time grows steeply with the
// element count of a workgroup array, through its zero-initialisation.)
var<workgroup> tile_a: array<vec4<f32>, 256>;
var<workgroup> tile_b: array<vec4<f32>, 256>;
var<private> acc: array<vec4<f32>, 4>;

fn a_at(m: u32, k: u32) -> f32 {
  if (m >= params.m || k >= params.k_end) {
    return 0.0;
  }
  if (TRANS_A) {
    return a[k * params.m + m];
  }
  return a[m * params.k + k];
}

fn b_at(k: u32, n: u32) -> f32 {
  if (n >= params.n || k >= params.k_end) {
    return 0.0;
  }
  if (TRANS_B) {
    return b[n * params.k + k];
  }
  return b[k * params.n + n];
}

// Each invocation stages one vec4 of each tile; the (kk, quad) assignment makes neighbouring
// invocations read neighbouring addresses for every transpose variant.
fn load_tiles(l: u32, row0: u32, col0: u32, k0: u32) {
  var kk: u32;
  var mq: u32;
  if (TRANS_A) {
    kk = l / 16u;
    mq = l % 16u;
  } else {
    kk = l % 16u;
    mq = l / 16u;
  }
  let m = row0 + 4u * mq;
  let ka = k0 + kk;
  tile_a[kk * 16u + mq] = vec4<f32>(a_at(m, ka), a_at(m + 1u, ka), a_at(m + 2u, ka), a_at(m + 3u, ka));
  var nq: u32;
  if (TRANS_B) {
    kk = l % 16u;
    nq = l / 16u;
  } else {
    kk = l / 16u;
    nq = l % 16u;
  }
  let n = col0 + 4u * nq;
  let kb = k0 + kk;
  tile_b[kk * 16u + nq] = vec4<f32>(b_at(kb, n), b_at(kb, n + 1u), b_at(kb, n + 2u), b_at(kb, n + 3u));
}

fn mac(kk: u32, tx: u32, ty: u32) {
  let av = tile_a[kk * 16u + ty];
  let bv = tile_b[kk * 16u + tx];
  acc[0] = fma(vec4<f32>(av.x), bv, acc[0]);
  acc[1] = fma(vec4<f32>(av.y), bv, acc[1]);
  acc[2] = fma(vec4<f32>(av.z), bv, acc[2]);
  acc[3] = fma(vec4<f32>(av.w), bv, acc[3]);
}

fn store_one(row: u32, col: u32, v: f32) {
  if (col < params.n) {
    let i = row * params.n + col;
    if (params.accumulate != 0u) {
      c[i] = c[i] + v;
    } else {
      c[i] = v;
    }
  }
}

fn store_row(r: u32, row: u32, col: u32) {
  if (row < params.m) {
    let v = acc[r];
    store_one(row, col, v.x);
    store_one(row, col + 1u, v.y);
    store_one(row, col + 2u, v.z);
    store_one(row, col + 3u, v.w);
  }
}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let t = wid.y * nwg.x + wid.x;
  if (t >= params.num_tiles) {
    return;
  }
  let row0 = (t / params.tiles_n) * 64u;
  let col0 = (t % params.tiles_n) * 64u;
  let tx = lid.x;
  let ty = lid.y;
  acc[0] = vec4<f32>(0.0);
  acc[1] = vec4<f32>(0.0);
  acc[2] = vec4<f32>(0.0);
  acc[3] = vec4<f32>(0.0);
  for (var k0 = params.k_start; k0 < params.k_end; k0 += 16u) {
    load_tiles(li, row0, col0, k0);
    workgroupBarrier();
    mac(0u, tx, ty);
    mac(1u, tx, ty);
    mac(2u, tx, ty);
    mac(3u, tx, ty);
    mac(4u, tx, ty);
    mac(5u, tx, ty);
    mac(6u, tx, ty);
    mac(7u, tx, ty);
    mac(8u, tx, ty);
    mac(9u, tx, ty);
    mac(10u, tx, ty);
    mac(11u, tx, ty);
    mac(12u, tx, ty);
    mac(13u, tx, ty);
    mac(14u, tx, ty);
    mac(15u, tx, ty);
    workgroupBarrier();
  }
  let col = col0 + tx * 4u;
  let row = row0 + ty * 4u;
  store_row(0u, row, col);
  store_row(1u, row + 1u, col);
  store_row(2u, row + 2u, col);
  store_row(3u, row + 3u, col);
}

// The values of ranks k1 ≤ k2 among the upper triangle i < j of an [n, n] float matrix (HSIC's
// median bandwidth), by radix selection on order-preserving u32 keys, with no sort and no readback:
//   hist_hi  counts the keys' top 16 bits (hist[0 .. 65536));
//   find_hi  finds the buckets b1, b2 holding ranks k1, k2 and the ranks r1, r2 within them;
//   hist_lo  counts the low 16 bits of the keys in b1 (hist[65536 ..)) and in b2 (hist[131072 ..));
//   find_lo  finds the low bits of ranks r1, r2 there and writes both values to `out`.
// The keys are sort_rows.wgsl's (every NaN after +Inf, -0 equal to +0), so the values are those a
// stable sort of the triangle puts at k1 and k2 (a zero comes back as +0, a NaN as one NaN).
// Counts are integer atomics: the result does not depend on the order invocations run in.
//
// Trip-count bound: the histogram entries have no loops; the find entries loop 256 times per
// thread over their bins and 2 · (256 + 256) times in thread 0, independent of n.
struct Params {
  n: u32,
  k1: u32,
  k2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> state: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

const BINS: u32 = 65536u;

var<workgroup> partial: array<u32, 256>;

// #include order_key.wgsl

fn key_bits(key: u32) -> u32 {
  if ((key & 0x80000000u) != 0u) {
    return key & 0x7fffffffu;
  }
  return ~key;
}

// The key of element g when it lies in the upper triangle, else none (valid = false).
fn upper_key(g: u32) -> vec2<u32> {
  let n = params.n;
  if (g >= n * n) {
    return vec2<u32>(0u, 0u);
  }
  let i = g / n;
  let j = g % n;
  if (j <= i) {
    return vec2<u32>(0u, 0u);
  }
  return vec2<u32>(float_key(a[g]), 1u);
}

fn linear(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn hist_hi(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = upper_key(linear(wid, nwg, lid));
  if (k.y == 1u) {
    atomicAdd(&hist[k.x >> 16u], 1u);
  }
}

@compute @workgroup_size(256)
fn hist_lo(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = upper_key(linear(wid, nwg, lid));
  if (k.y == 1u) {
    let top = k.x >> 16u;
    if (top == state[0]) {
      atomicAdd(&hist[BINS + (k.x & 0xffffu)], 1u);
    }
    if (top == state[2]) {
      atomicAdd(&hist[2u * BINS + (k.x & 0xffffu)], 1u);
    }
  }
}

// Sums each thread's 256 bins of the histogram segment at `base` into `partial`.
fn partial_sums(base: u32, lid: u32) {
  var s = 0u;
  for (var b = 0u; b < 256u; b++) {
    s += atomicLoad(&hist[base + lid * 256u + b]);
  }
  partial[lid] = s;
}

// The bin of rank k in the segment at `base` and k's rank within that bin (thread 0 only).
fn find(base: u32, k: u32) -> vec2<u32> {
  var before = 0u;
  var t = 0u;
  for (; t < 255u; t++) {
    if (before + partial[t] > k) {
      break;
    }
    before += partial[t];
  }
  var bin = t * 256u;
  for (var b = 0u; b < 255u; b++) {
    let c = atomicLoad(&hist[base + bin]);
    if (before + c > k) {
      break;
    }
    before += c;
    bin++;
  }
  return vec2<u32>(bin, k - before);
}

@compute @workgroup_size(256)
fn find_hi(@builtin(local_invocation_index) lid: u32) {
  partial_sums(0u, lid);
  workgroupBarrier();
  if (lid == 0u) {
    let f1 = find(0u, params.k1);
    let f2 = find(0u, params.k2);
    state[0] = f1.x;
    state[1] = f1.y;
    state[2] = f2.x;
    state[3] = f2.y;
  }
}

@compute @workgroup_size(256)
fn find_lo(@builtin(local_invocation_index) lid: u32) {
  partial_sums(BINS, lid);
  workgroupBarrier();
  if (lid == 0u) {
    out[0] = key_bits((state[0] << 16u) | find(BINS, state[1]).x);
  }
  workgroupBarrier();
  partial_sums(2u * BINS, lid);
  workgroupBarrier();
  if (lid == 0u) {
    out[1] = key_bits((state[2] << 16u) | find(2u * BINS, state[3]).x);
  }
}

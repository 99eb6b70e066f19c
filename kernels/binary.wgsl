// Elementwise binary ops with broadcasting, one invocation per output element, no loops.
// Each operand is addressed as row * row_stride + col * col_stride, where a broadcast dimension
// has stride 0. OP: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, and two fused ops: 6 relu(u + v)
// (a layer's bias and ReLU; NaN kept, like unary relu), 7 u · step(v) (ReLU's gradient, step(v)
// = 1 where v > 0, else 0, like unary step), and three for chains of the losses, each rounding
// every step as the chain's kernels do: 8 u + (v on the diagonal, 0 elsewhere) (SimCLR's self
// mask, without uploading an n² mask), 9 exp(−(u / v)) (a Gaussian kernel from squared
// distances), 10 exp(u − v) (logsumexp's gradient before its factor); exp is unary's (one file,
// exponential.wgsl), division op 3's. max/min propagate NaN and order
// -0 < +0 (like JavaScript's Math.max / Math.min); division by zero yields ±Inf or NaN explicitly.
override OP: u32 = 0u;

struct Params {
  n: u32,
  cols: u32,
  a_rs: u32,
  a_cs: u32,
  b_rs: u32,
  b_cs: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn make_nan() -> f32 {
  return bitcast<f32>(0x7fc00000u | (params.n & 0u));
}

fn divide(u: f32, v: f32) -> f32 {
  if (v == 0.0) {
    if (u == 0.0 || is_nan(u)) {
      return make_nan();
    }
    let sign = (bitcast<u32>(u) ^ bitcast<u32>(v)) & 0x80000000u;
    return bitcast<f32>(0x7f800000u | sign);
  }
  return u / v;
}

// #include exponential.wgsl

fn apply(u: f32, v: f32, diagonal: bool) -> f32 {
  switch (OP) {
    case 0u: {
      return u + v;
    }
    case 1u: {
      return u - v;
    }
    case 2u: {
      return u * v;
    }
    case 3u: {
      return divide(u, v);
    }
    case 4u: {
      if (is_nan(u) || is_nan(v)) {
        return make_nan();
      }
      if (u > v) {
        return u;
      }
      if (v > u) {
        return v;
      }
      return bitcast<f32>(bitcast<u32>(u) & bitcast<u32>(v));
    }
    case 6u: {
      let z = u + v;
      if (is_nan(z)) {
        return z;
      }
      return select(0.0, z, z > 0.0);
    }
    case 7u: {
      return u * select(0.0, 1.0, v > 0.0);
    }
    case 8u: {
      return u + select(0.0, v, diagonal);
    }
    case 9u: {
      return exponential(-divide(u, v));
    }
    case 10u: {
      return exponential(u - v);
    }
    default: {
      if (is_nan(u) || is_nan(v)) {
        return make_nan();
      }
      if (u < v) {
        return u;
      }
      if (v < u) {
        return v;
      }
      return bitcast<f32>(bitcast<u32>(u) | bitcast<u32>(v));
    }
  }
}

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (g >= params.n) {
    return;
  }
  let i = g / params.cols;
  let j = g % params.cols;
  y[g] = apply(a[i * params.a_rs + j * params.a_cs], b[i * params.b_rs + j * params.b_cs], i == j);
}

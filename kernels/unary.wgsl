// Elementwise unary ops, one invocation per element, no loops except the `pow` integer-exponent
// loop (binary exponentiation, at most 7 trips for |exponent| ≤ 64). OP selects the op:
// 0 neg, 1 relu, 2 exp, 3 log, 4 sqrt, 5 abs, 6 sign, 7 step, 8 pow, 9 scale, 10 shift.
// IEEE special values are produced explicitly (bit patterns), since WGSL leaves several built-ins
// undefined outside their domain (log of x ≤ 0, pow of x < 0, ...).
override OP: u32 = 0u;

struct Params {
  n: u32,
  // pow: 0 = integer exponent |p| ≤ 64 (binary exponentiation), 1 = non-integer exponent,
  // 2 = larger integer exponent (exp2/log2 on |x| with sign fix), 3 = NaN exponent.
  pow_mode: u32,
  pow_exp: u32,
  pow_neg: u32,
  pow_odd: u32,
  param: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn is_inf(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u;
}

fn make_nan() -> f32 {
  return bitcast<f32>(0x7fc00000u | (params.n & 0u));
}

// #include exponential.wgsl

fn make_inf(negative: bool) -> f32 {
  return bitcast<f32>(select(0x7f800000u, 0xff800000u, negative) | (params.n & 0u));
}

// |x| ** p for ax = |x| ≥ 0 (or NaN) and a finite, non-NaN p.
fn pow_abs(ax: f32, p: f32) -> f32 {
  if (is_nan(ax)) {
    return ax;
  }
  if (p == 0.0 || ax == 1.0) {
    return 1.0;
  }
  if (ax == 0.0) {
    return select(make_inf(false), 0.0, p > 0.0);
  }
  if (is_inf(ax)) {
    return select(0.0, make_inf(false), p > 0.0);
  }
  if (p == 0.5) {
    return sqrt(ax);
  }
  return exp2(p * log2(ax));
}

fn pow_op(v: f32) -> f32 {
  let p = params.param;
  switch (params.pow_mode) {
    case 0u: {
      var e = params.pow_exp;
      var base = v;
      var r = 1.0;
      while (e > 0u) {
        if ((e & 1u) != 0u) {
          r = r * base;
        }
        e = e >> 1u;
        if (e > 0u) {
          base = base * base;
        }
      }
      if (params.pow_neg != 0u) {
        if (r == 0.0) {
          return make_inf((bitcast<u32>(r) & 0x80000000u) != 0u);
        }
        return 1.0 / r;
      }
      return r;
    }
    case 1u: {
      if (v < 0.0) {
        return make_nan();
      }
      return pow_abs(abs(v), p);
    }
    case 2u: {
      let r = pow_abs(abs(v), p);
      if (params.pow_odd != 0u && (bitcast<u32>(v) & 0x80000000u) != 0u && !is_nan(v)) {
        return -r;
      }
      return r;
    }
    default: {
      return make_nan();
    }
  }
}

fn apply(v: f32) -> f32 {
  switch (OP) {
    case 0u: {
      return -v;
    }
    case 1u: {
      if (is_nan(v)) {
        return v;
      }
      return select(0.0, v, v > 0.0);
    }
    case 2u: {
      return exponential(v);
    }
    case 3u: {
      if (is_nan(v) || v < 0.0) {
        return make_nan();
      }
      if (v == 0.0) {
        return make_inf(true);
      }
      if (is_inf(v)) {
        return v;
      }
      return log(v);
    }
    case 4u: {
      if (is_nan(v) || v < 0.0) {
        return make_nan();
      }
      if (v == 0.0 || is_inf(v)) {
        return v;
      }
      return sqrt(v);
    }
    case 5u: {
      return bitcast<f32>(bitcast<u32>(v) & 0x7fffffffu);
    }
    case 6u: {
      if (is_nan(v) || v == 0.0) {
        return v;
      }
      return select(-1.0, 1.0, v > 0.0);
    }
    case 7u: {
      return select(0.0, 1.0, v > 0.0);
    }
    case 8u: {
      return pow_op(v);
    }
    case 9u: {
      return v * params.param;
    }
    default: {
      return v + params.param;
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
  y[g] = apply(x[g]);
}

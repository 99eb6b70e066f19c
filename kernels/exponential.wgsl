// exp as the unary kernel's op 2 computes it, shared by the kernels that take exponentials
// (included with `// #include exponential.wgsl`; the including file defines `is_nan` and a
// uniform `params` with a field `n`): NaN kept, +Inf above and 0 below the float32 range.
fn exponential(v: f32) -> f32 {
  if (is_nan(v)) {
    return v;
  }
  if (v > 88.72284) {
    return bitcast<f32>(0x7f800000u | (params.n & 0u));
  }
  if (v < -103.972084) {
    return 0.0;
  }
  return exp(v);
}

// Order-preserving u32 key of a float's bits, shared by the kernels that order floats (included
// with `// #include order_key.wgsl`): every NaN becomes 0xffffffff (after +Inf), -0 equals +0,
// negatives are reversed below the positives.
fn float_key(b: u32) -> u32 {
  if ((b & 0x7fffffffu) > 0x7f800000u) {
    return 0xffffffffu;
  }
  if (b == 0x80000000u) {
    return 0x80000000u;
  }
  if ((b & 0x80000000u) != 0u) {
    return ~b;
  }
  return b | 0x80000000u;
}

// One in-place AdamW step (decoupled weight decay), one invocation per element, no loops:
//   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
//   p ← p − lr·wd·p − lr · (m / bc1) / (sqrt(v / bc2) + eps),  bc1 = 1 − β1^t, bc2 = 1 − β2^t.
// The host precomputes 1 − β, lr·wd and the bias corrections in float64.
struct Params {
  n: u32,
  lr: f32,
  lr_wd: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= params.n) {
    return;
  }
  let g = grad[i];
  let mi = params.beta1 * m[i] + params.one_minus_beta1 * g;
  let vi = params.beta2 * v[i] + params.one_minus_beta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  let p = param[i];
  param[i] = p - params.lr_wd * p - params.lr * (mi / params.bc1) / (sqrt(vi / params.bc2) + params.eps);
}

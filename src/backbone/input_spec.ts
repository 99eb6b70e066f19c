import { InputSpecError } from "../errors.ts";
/**
 * What a frozen backbone expects as input, and the preprocessing that turns dataset images
 * ([n, c, h, w] NCHW; uint8 0–255 read as value / 255, float32 taken as stored, normally [0, 1])
 * into exactly that: channel replication
 * (grayscale → 3 channels when the model wants 3), an optional bilinear resize, per-channel
 * mean/std normalisation, and the model's memory layout (NCHW or NHWC).
 *
 * The spec mirrors the matrix's `backbones[].input` block (src/matrix/schema.ts).
 */

export type Layout = "NCHW" | "NHWC";
export type ResizePolicy = "none" | "bilinear";

/** A backbone's input, as declared by the user (matrix `backbones[].input`). */
export interface InputSpec {
  /** Memory layout of the model's single image input. */
  layout: Layout;
  /** [height, width] the model expects. */
  size: readonly [number, number];
  /** Channels the model expects (e.g. 1 for an MNIST CNN, 3 for ImageNet models). */
  channels: number;
  /** What to do when the images are not `size`: "none" rejects them, "bilinear" resizes. */
  resize?: ResizePolicy;
  /** Per-channel mean, in pixel units ([0, 1] images); one value is broadcast to all channels. */
  mean: readonly number[];
  /** Per-channel standard deviation (> 0); one value is broadcast to all channels. */
  std: readonly number[];
}

/** An InputSpec with every field present and mean/std expanded to one value per channel. */
export interface ResolvedInputSpec {
  layout: Layout;
  size: [number, number];
  channels: number;
  resize: ResizePolicy;
  mean: number[];
  std: number[];
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}

/**
 * Validates a spec and fills defaults (resize "none"); `where` names the spec in errors
 * (e.g. the model file or the matrix path).
 */
export function resolveInputSpec(spec: InputSpec, where = "input spec"): ResolvedInputSpec {
  const fail = (what: string): never => {
    throw new InputSpecError(`${where}: ${what}`);
  };
  if (spec.layout !== "NCHW" && spec.layout !== "NHWC") {
    fail(`layout ${JSON.stringify(spec.layout)}: expected "NCHW" or "NHWC"`);
  }
  if (!Array.isArray(spec.size) || spec.size.length !== 2 || !spec.size.every(isPositiveInt)) {
    fail(`size ${JSON.stringify(spec.size)}: expected [height, width], two positive integers`);
  }
  if (!isPositiveInt(spec.channels)) {
    fail(`channels ${JSON.stringify(spec.channels)}: expected a positive integer`);
  }
  const resize = spec.resize ?? "none";
  if (resize !== "none" && resize !== "bilinear") {
    fail(`resize ${JSON.stringify(resize)}: expected "none" or "bilinear"`);
  }
  const perChannel = (name: "mean" | "std"): number[] => {
    const v = spec[name];
    if (!Array.isArray(v) || (v.length !== 1 && v.length !== spec.channels)) {
      fail(`${name} ${JSON.stringify(v)}: expected 1 or ${spec.channels} (channels) numbers`);
    }
    if (!v.every((x) => typeof x === "number" && Number.isFinite(x))) {
      fail(`${name} ${JSON.stringify(v)}: not finite`);
    }
    if (name === "std" && !v.every((x) => x > 0)) fail(`std ${JSON.stringify(v)}: every value must be > 0`);
    return v.length === 1 ? new Array(spec.channels).fill(v[0]) : [...v];
  };
  return {
    layout: spec.layout,
    size: [spec.size[0], spec.size[1]],
    channels: spec.channels,
    resize,
    mean: perChannel("mean"),
    std: perChannel("std"),
  };
}

/** The model input shape a spec implies for a batch of `n` ("N" when symbolic). */
export function specShape(spec: ResolvedInputSpec, n: number | string = "N"): (number | string)[] {
  const [h, w] = spec.size;
  return spec.layout === "NCHW" ? [n, spec.channels, h, w] : [n, h, w, spec.channels];
}

/** Formats a shape as `[N, 1, 28, 28]`. */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Checks that images of `channels × height × width` can be fed to a model with this spec, before
 * any work: channels must match or be 1 → 3 (replicated), sizes must match unless resize is
 * "bilinear". Throws an InputSpecError naming `where`, the expected and the actual shapes.
 */
export function checkImageShape(
  spec: ResolvedInputSpec,
  channels: number,
  height: number,
  width: number,
  where: string,
): void {
  const actual = formatShape(["n", channels, height, width]);
  const expected = formatShape(["n", spec.channels, spec.size[0], spec.size[1]]);
  if (channels !== spec.channels && !(channels === 1 && spec.channels === 3)) {
    throw new InputSpecError(
      `${where}: images ${actual} (NCHW) have ${channels} channel(s) but the backbone expects ${expected} ` +
        `(${spec.channels} channels; only 1 → 3 replication is automatic)`,
    );
  }
  if ((height !== spec.size[0] || width !== spec.size[1]) && spec.resize === "none") {
    throw new InputSpecError(
      `${where}: images ${actual} (NCHW) are ${height}×${width} but the backbone expects ${expected} ` +
        `and its input spec says resize: "none" (use resize: "bilinear" to resize)`,
    );
  }
}

/**
 * Bilinear resize of one channel plane (half-pixel centres, i.e. align_corners = false, no
 * antialiasing: PyTorch's `F.interpolate(mode="bilinear", align_corners=False)`).
 */
export function resizeBilinear(
  src: Float32Array | Uint8Array,
  srcOffset: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
  dst: Float32Array,
  dstOffset: number,
): void {
  const sy = h / oh, sx = w / ow;
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), wy = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), wx = fx - x0;
      const a = src[srcOffset + y0 * w + x0], b = src[srcOffset + y0 * w + x1];
      const c = src[srcOffset + y1 * w + x0], d = src[srcOffset + y1 * w + x1];
      dst[dstOffset + y * ow + x] = (a * (1 - wx) + b * wx) * (1 - wy) + (c * (1 - wx) + d * wx) * wy;
    }
  }
}

/**
 * Preprocesses images `rows` of `images` ([n, c, h, w], NCHW; uint8 pixels are divided by 255,
 * float32 pixels taken as they are) into `out` in the model's layout ([rows.length, ...specShape]).
 * `checkImageShape` must have passed. `out` is allocated when not given (or too small).
 */
export function preprocess(
  spec: ResolvedInputSpec,
  images: Float32Array | Uint8Array,
  shape: readonly [number, number, number, number],
  rows: ArrayLike<number>,
  out?: Float32Array,
): Float32Array {
  const [, c, h, w] = shape;
  const [oh, ow] = spec.size;
  const oc = spec.channels, plane = oh * ow, per = oc * plane;
  const need = rows.length * per;
  const dst = out && out.length >= need ? out : new Float32Array(need);
  const resize = h !== oh || w !== ow;
  const tmp = resize ? new Float32Array(plane) : null;
  const unit = images instanceof Uint8Array ? 1 / 255 : 1;
  // (x·unit − mean) / std = x·(unit/std) − mean/std: one multiply-add per pixel.
  const mul = spec.std.map((s) => unit / s);
  const add = spec.mean.map((m, i) => -m / spec.std[i]);
  for (let r = 0; r < rows.length; r++) {
    const img = rows[r];
    for (let ch = 0; ch < oc; ch++) {
      const srcCh = c === oc ? ch : 0; // 1 → 3 replication
      const srcOff = (img * c + srcCh) * h * w;
      let plan: Float32Array | Uint8Array, planOff: number;
      if (tmp) {
        resizeBilinear(images, srcOff, h, w, oh, ow, tmp, 0);
        plan = tmp;
        planOff = 0;
      } else {
        plan = images;
        planOff = srcOff;
      }
      const base = spec.layout === "NCHW" ? r * per + ch * plane : r * per + ch;
      const stride = spec.layout === "NCHW" ? 1 : oc;
      if (plan instanceof Uint8Array) affineU8(plan, planOff, plane, dst, base, stride, mul[ch], add[ch]);
      else affineF32(plan, planOff, plane, dst, base, stride, mul[ch], add[ch]);
    }
  }
  return dst;
}

// dst[base + i·stride] = src[off + i]·a + b, one monomorphic loop per source type (V8 keeps each
// typed-array access site on one element kind: ~2× faster than a shared polymorphic loop).
function affineU8(
  src: Uint8Array,
  off: number,
  n: number,
  dst: Float32Array,
  base: number,
  stride: number,
  a: number,
  b: number,
) {
  if (stride === 1) { for (let i = 0; i < n; i++) dst[base + i] = src[off + i] * a + b; }
  else for (let i = 0; i < n; i++) dst[base + i * stride] = src[off + i] * a + b;
}

function affineF32(
  src: Float32Array,
  off: number,
  n: number,
  dst: Float32Array,
  base: number,
  stride: number,
  a: number,
  b: number,
) {
  if (stride === 1) { for (let i = 0; i < n; i++) dst[base + i] = src[off + i] * a + b; }
  else for (let i = 0; i < n; i++) dst[base + i * stride] = src[off + i] * a + b;
}

/** The spec in canonical form, for cache keys and result tables. */
export function specForKey(spec: ResolvedInputSpec): Record<string, unknown> {
  return {
    layout: spec.layout,
    size: spec.size,
    channels: spec.channels,
    resize: spec.resize,
    mean: spec.mean,
    std: spec.std,
  };
}

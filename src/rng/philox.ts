/**
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011). A stream is keyed by a seed
 * and a path of labels, e.g. (seed, "augment", "train", imageIndex, view); draw i of a stream
 * depends only on that key and i, never on call order, batch size, sharding or backend.
 */

const M0 = 0xd2511f53, M1 = 0xcd9e8d57, W0 = 0x9e3779b9, W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact, via 16-bit limbs). */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: four uint32 from a 128-bit counter and a 64-bit key. */
export function philox4x32(
  counter: ArrayLike<number>,
  key: ArrayLike<number>,
  out = new Uint32Array(4),
): Uint32Array {
  return philoxBlock(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
}

/** `philox4x32` with the counter and key as numbers (no arrays made per block). */
function philoxBlock(
  counter0: number,
  counter1: number,
  counter2: number,
  counter3: number,
  key0: number,
  key1: number,
  out: Uint32Array,
): Uint32Array {
  let c0 = counter0 >>> 0, c1 = counter1 >>> 0, c2 = counter2 >>> 0, c3 = counter3 >>> 0;
  let k0 = key0 >>> 0, k1 = key1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** The largest float32 below a finite float32 `x` (x > −max). */
function nextFloat32Down(x: number): number {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer);
  if (f[0] === 0) return -Math.pow(2, -149);
  u[0] += f[0] > 0 ? -1 : 1;
  return f[0];
}

const labelHashes = new Map<string, number>();
const utf8 = new TextEncoder();

/** FNV-1a over the UTF-8 bytes of a label (memoised: a view's stream is keyed by the same few labels). */
function hashLabel(s: string): number {
  let h = labelHashes.get(s);
  if (h !== undefined) return h;
  h = 0x811c9dc5;
  for (const b of utf8.encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  if (labelHashes.size < 4096) labelHashes.set(s, h);
  return h;
}

export type StreamLabel = string | number;

/** A reproducible random stream keyed by (seed, ...path). */
export class CounterRng {
  readonly key: Uint32Array;
  /** How many labels keyed the stream (a derived stream continues the path from there). */
  readonly depth: number;
  readonly #block = new Uint32Array(4);

  /**
   * The stream (seed, ...path); with a parent stream in place of the seed, the stream
   * (parent's seed, ...parent's path, ...path), e.g. one step of a composed augmentation.
   */
  constructor(seed: number | CounterRng, ...path: StreamLabel[]) {
    let k0: number, k1: number, start: number;
    if (seed instanceof CounterRng) [k0, k1, start] = [seed.key[0], seed.key[1], seed.depth];
    else {
      if (!Number.isSafeInteger(seed) || seed < 0) {
        throw new RangeError(`seed ${seed}: expected a non-negative safe integer`);
      }
      [k0, k1, start] = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, 0];
    }
    const b = this.#block;
    for (let i = 0; i < path.length; i++) {
      const label = path[i];
      if (typeof label === "number") {
        if (!Number.isSafeInteger(label) || label < 0) {
          throw new RangeError(`stream label ${label}: expected a non-negative safe integer or a string`);
        }
        philoxBlock(label >>> 0, Math.floor(label / 2 ** 32) >>> 0, start + i, 0x6e756d00, k0, k1, b);
      } else philoxBlock(hashLabel(label), label.length, start + i, 0x73747200, k0, k1, b);
      k0 = b[0];
      k1 = b[1];
    }
    this.key = new Uint32Array([k0, k1]);
    this.depth = start + path.length;
  }

  /** Block i of the stream (four uint32). The returned array is reused by the next call. */
  block(i: number): Uint32Array {
    return philoxBlock(i >>> 0, Math.floor(i / 2 ** 32) >>> 0, 0, 0, this.key[0], this.key[1], this.#block);
  }

  /** Uniform draw i in [0, 1) with 53 random bits. */
  uniform(i: number): number {
    const b = this.block(i);
    return ((b[0] >>> 5) * 67108864 + (b[1] >>> 6)) / 9007199254740992;
  }

  /** Standard normal draw i (Box–Muller on the block's four words). */
  normal(i: number): number {
    const b = this.block(i);
    const u1 = ((b[0] >>> 5) * 67108864 + (b[1] >>> 6) + 1) / 9007199254740993; // (0, 1]
    const u2 = ((b[2] >>> 5) * 67108864 + (b[3] >>> 6)) / 9007199254740992;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** n uniforms in [lo, hi), draws offset..offset+n−1. */
  uniforms(n: number, lo = 0, hi = 1, offset = 0): Float32Array {
    const out = new Float32Array(n);
    // Rounding to float32 can land exactly on hi; keep the documented half-open interval.
    const below = nextFloat32Down(hi);
    for (let i = 0; i < n; i++) {
      const v = Math.fround(lo + (hi - lo) * this.uniform(offset + i));
      out[i] = v < hi ? v : below;
    }
    return out;
  }

  /** n normals N(mean, std²), draws offset..offset+n−1. */
  normals(n: number, mean = 0, std = 1, offset = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal(offset + i);
    return out;
  }

  /** A uniformly random permutation of 0..n−1 (Fisher–Yates on this stream's draws). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform(i) * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

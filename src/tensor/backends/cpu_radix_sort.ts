/**
 * The CPU backend's row sort: a stable LSD radix sort over order-preserving int32 keys of the
 * floats (insertion sort for short rows), moving only indices.
 */
/** Rows this short sort by insertion (cheaper than four 256-bucket radix passes). */
const INSERTION_MAX = 24;

/**
 * Order-preserving int32 key of a float's bits (read as int32): non-negative floats keep their
 * bits, negative ones flip all but the sign bit, so signed int32 order is float order. -0 maps to
 * +0's key (0) and every NaN to 0x7FFFFFFF, after +Infinity (0x7F800000). Signed int32 (not
 * uint32) keeps every value a small integer for V8 (uint32 ≥ 2³¹ would be boxed as doubles).
 */
function sortKey(u: number): number {
  const m = u & 0x7fffffff;
  if (m === 0) return 0;
  if (m > 0x7f800000) return 0x7fffffff;
  return u ^ ((u >> 31) & 0x7fffffff);
}

/** Byte `pass` (0: lowest) of a key, as the unsigned digit that orders signed keys. */
function digit(key: number, pass: number): number {
  return pass === 3 ? (key >> 24) + 128 : (key >> (pass * 8)) & 255;
}

/** Stable insertion sort of one short row; writes the sorted indices and value bits. */
function insertionSortRow(
  bits: Int32Array,
  base: number,
  c: number,
  keys: Int32Array,
  idx: Int32Array,
  outIdx: Int32Array,
  outBits: Int32Array,
): void {
  for (let j = 0; j < c; j++) {
    const key = sortKey(bits[base + j]);
    let p = j - 1;
    // Strict > keeps equal keys in source order.
    while (p >= 0 && keys[p] > key) {
      keys[p + 1] = keys[p];
      idx[p + 1] = idx[p];
      p--;
    }
    keys[p + 1] = key;
    idx[p + 1] = j;
  }
  for (let j = 0; j < c; j++) {
    const src = idx[j];
    outIdx[base + j] = src;
    outBits[base + j] = bits[base + src];
  }
}

/** Keys of one row plus the four byte histograms (hist[pass * 256 + digit]). */
function keysAndHistograms(
  bits: Int32Array,
  base: number,
  c: number,
  keys: Int32Array,
  hist: Int32Array,
): void {
  hist.fill(0);
  for (let j = 0; j < c; j++) {
    const key = sortKey(bits[base + j]);
    keys[j] = key;
    hist[key & 255]++;
    hist[256 + ((key >> 8) & 255)]++;
    hist[512 + ((key >> 16) & 255)]++;
    hist[896 + (key >> 24)]++;
  }
}

/** Turns histogram `pass` into exclusive prefix sums (bucket start offsets). */
function prefixSums(hist: Int32Array, h: number): void {
  let sum = 0;
  for (let d = h; d < h + 256; d++) {
    const t = hist[d];
    hist[d] = sum;
    sum += t;
  }
}

/** One counting-sort pass moving indices `src` → `dst` by byte `pass` of their keys. */
function scatterPass(
  keys: Int32Array,
  src: Int32Array | null,
  dst: Int32Array,
  c: number,
  hist: Int32Array,
  pass: number,
): void {
  const h = pass * 256;
  if (pass === 3) {
    if (src) { for (let j = 0; j < c; j++) dst[hist[896 + (keys[src[j]] >> 24)]++] = src[j]; }
    else for (let i = 0; i < c; i++) dst[hist[896 + (keys[i] >> 24)]++] = i;
  } else {
    const shift = pass * 8;
    if (src) { for (let j = 0; j < c; j++) dst[hist[h + ((keys[src[j]] >> shift) & 255)]++] = src[j]; }
    else for (let i = 0; i < c; i++) dst[hist[h + ((keys[i] >> shift) & 255)]++] = i;
  }
}

/**
 * The last counting-sort pass, writing the output row directly: the source column of each
 * position and the value bits it points at.
 */
function emitPass(
  keys: Int32Array,
  src: Int32Array | null,
  c: number,
  hist: Int32Array,
  pass: number,
  bits: Int32Array,
  base: number,
  outIdx: Int32Array,
  outBits: Int32Array,
): void {
  if (src && pass === 3) {
    // The usual case: a top-byte pass after earlier ones.
    for (let j = 0; j < c; j++) {
      const i = src[j];
      const pos = base + hist[896 + (keys[i] >> 24)]++;
      outIdx[pos] = i;
      outBits[pos] = bits[base + i];
    }
    return;
  }
  for (let j = 0; j < c; j++) {
    const i = src ? src[j] : j;
    const pos = base + hist[pass * 256 + digit(keys[i], pass)]++;
    outIdx[pos] = i;
    outBits[pos] = bits[base + i];
  }
}

let sortScratch: { keys: Int32Array; idx: Int32Array; idx2: Int32Array } | null = null;
const hist = new Int32Array(4 * 256);

function scratch(c: number): NonNullable<typeof sortScratch> {
  if (!sortScratch || sortScratch.keys.length < c) {
    sortScratch = { keys: new Int32Array(c), idx: new Int32Array(c), idx2: new Int32Array(c) };
  }
  return sortScratch;
}

/**
 * Sorts each row of `a` ([r, c]) ascending, stable, NaN after +Infinity, writing the sorted values
 * and source columns. Floats map to order-preserving int32 keys (`sortKey`), and an LSD radix sort
 * over the four key bytes orders the column indices: each pass is a stable counting sort, so ties
 * keep their source order. Only indices move (keys are looked up by index), and a pass where
 * every key shares the digit is skipped. Values are copied as bits, so NaN payloads and -0
 * survive. Rows of at most INSERTION_MAX use insertion sort.
 */
export function sortRowsInto(
  a: Float32Array,
  r: number,
  c: number,
  outVals: Float32Array,
  outIdx: Int32Array,
): void {
  if (c === 0) return;
  const bits = new Int32Array(a.buffer, a.byteOffset, a.length);
  const outBits = new Int32Array(outVals.buffer, outVals.byteOffset, outVals.length);
  const { keys, idx, idx2 } = scratch(c);
  for (let row = 0; row < r; row++) {
    const base = row * c;
    if (c <= INSERTION_MAX) {
      insertionSortRow(bits, base, c, keys, idx, outIdx, outBits);
      continue;
    }
    keysAndHistograms(bits, base, c, keys, hist);
    let last = -1;
    for (let pass = 0; pass < 4; pass++) {
      if (hist[pass * 256 + digit(keys[0], pass)] !== c) last = pass; // else every key has this digit
    }
    if (last < 0) {
      // All keys equal: the stable order is the source order.
      for (let j = 0; j < c; j++) outIdx[base + j] = j;
      outBits.set(bits.subarray(base, base + c), base);
      continue;
    }
    let src: Int32Array | null = null, dst = idx;
    for (let pass = 0; pass < last; pass++) {
      if (hist[pass * 256 + digit(keys[0], pass)] === c) continue;
      prefixSums(hist, pass * 256);
      scatterPass(keys, src, dst, c, hist, pass);
      src = dst;
      dst = dst === idx ? idx2 : idx;
    }
    prefixSums(hist, last * 256);
    emitPass(keys, src, c, hist, last, bits, base, outIdx, outBits);
  }
}

/**
 * A frozen backbone F: any ONNX model run by onnxruntime-node (CPU), declared with an input spec
 * (layout, size, channels, resize, mean/std) and the output to use as features.
 *
 * `OnnxBackbone.load` checks the model against the spec before any work: exactly one float32
 * image input whose fixed dimensions agree with the spec, and the chosen output present, float32,
 * batch-major. The feature dimension comes from the output's metadata, or from one probe run on a
 * zero image when it is symbolic. Every mismatch throws a BackboneError naming the model file,
 * the expected and the actual shapes.
 *
 * The model is loaded by path, so that onnxruntime finds external data (`model.onnx` +
 * `model.onnx.data`) beside it; every file it reads is hashed: the model (`sha256`) and each
 * external data file its tensors name (`externalData`), together `contentHash`. A location that is
 * absolute or leaves the model's directory is refused (what is hashed must be what is read).
 *
 * `run` preprocesses images in batches, runs the session (fetching only the feature output),
 * rejects NaN/±Inf features with the image's index, and reports progress only to a `progress`
 * callback (the library draws nothing itself).
 */
import { BackboneError, InputSpecError } from "../errors.ts";
import { sha256File, sha256Hex } from "../util/hash.ts";
import { dirname, isAbsolute, join, normalize } from "node:path";
import * as ort from "onnxruntime-node";
import { externalDataLocations } from "../onnx/external_data.ts";
import {
  checkExecutionProvider,
  DEFAULT_EXECUTION_PROVIDER,
  providerStartFailure,
} from "./execution_provider.ts";
import {
  checkImageShape,
  formatShape,
  preprocess,
  type ResolvedInputSpec,
  resolveInputSpec,
  specShape,
} from "./input_spec.ts";
import type { InputSpec } from "./input_spec.ts";

/** A backbone as declared in a matrix (`backbones[]`). */
export interface BackboneDecl {
  /** Path of the ONNX model file. */
  onnx: string;
  input: InputSpec;
  /** Output to use as features: its name, or its index among the outputs (default 0). */
  output?: string | number;
  /** A short id for messages and result tables (default: the file name). */
  id?: string;
}

export interface BackboneLoadOptions {
  /** onnxruntime intra-op threads (default: every core, navigator.hardwareConcurrency). */
  threads?: number;
  /** Images per inference call (default 256; a model with a fixed batch dimension uses that). */
  batchSize?: number;
  /** onnxruntime execution provider (default "cpu"); one the installed runtime lacks is refused. */
  executionProvider?: string;
}

/** An external data file of a model: its location as the model names it, and its sha256. */
export interface ExternalDataFile {
  /** Relative to the model's directory, as written in the model. */
  location: string;
  /** The file's path (the model's directory joined with `location`). */
  path: string;
  sha256: string;
  bytes: number;
}

/** Progress of a run: images done so far and in total. */
export type ProgressCallback = (done: number, total: number) => void;

export interface RunOptions {
  /** Overrides the backbone's batch size for this run. */
  batchSize?: number;
  /** Called after every batch with (images done, total). */
  progress?: ProgressCallback;
  /**
   * The dataset index of each row, for messages (a NaN feature names the image by this index);
   * default: the row numbers themselves.
   */
  imageIndex?: ArrayLike<number>;
  /** What is being extracted, for messages (e.g. "mnist test rotation v0"). */
  label?: string;
  /**
   * The images are already the model's input up to layout: float32 NCHW at the model's channels
   * and size, normalised (e.g. augmented views, which the augmentation normalises itself). Only
   * the layout is changed (NCHW → NHWC when the model wants it).
   */
  normalized?: boolean;
}

/** Images in NCHW layout: uint8 0–255 (read as value / 255) or float32 (normally [0, 1]). */
export interface ImageBatch {
  data: Float32Array | Uint8Array;
  shape: readonly [n: number, c: number, h: number, w: number];
}

/** What a result table records about a backbone. */
export interface BackboneInfo {
  id: string;
  path: string;
  sha256: string;
  bytes: number;
  /** External data files the model reads (none for a self-contained model). */
  externalData: ExternalDataFile[];
  /** `sha256` alone for a self-contained model, else the sha256 over it and every data file's. */
  contentHash: string;
  executionProvider: string;
  runtime: string;
  input: { name: string; modelShape: (number | string)[]; spec: ResolvedInputSpec };
  output: { name: string; modelShape: (number | string)[]; featureDim: number };
}

/** The runtime that runs backbones, recorded in cache keys and result tables. */
export const ONNX_RUNTIME = `onnxruntime-node@${ort.env.versions.node ?? ort.env.versions.common}`;

function isTensorMeta(m: ort.InferenceSession.ValueMetadata): m is ort.InferenceSession.TensorValueMetadata {
  return m.isTensor;
}

function describeValue(m: ort.InferenceSession.ValueMetadata): string {
  return isTensorMeta(m) ? `"${m.name}" ${m.type} ${formatShape(m.shape)}` : `"${m.name}" (not a tensor)`;
}

/**
 * The external data files `modelBytes` (the model at `path`) names, each hashed. A location that
 * is absolute or leads out of the model's directory, or a file that cannot be read, is refused.
 */
async function hashExternalData(path: string, modelBytes: Uint8Array): Promise<ExternalDataFile[]> {
  let locations: string[];
  try {
    locations = externalDataLocations(modelBytes);
  } catch {
    return []; // not a protobuf: onnxruntime's own load error says so
  }
  const dir = dirname(path);
  const files: ExternalDataFile[] = [];
  for (const location of locations) {
    const rel = normalize(location);
    if (isAbsolute(location) || rel === ".." || rel.startsWith("../") || rel.startsWith("..\\")) {
      throw new BackboneError(
        `${path}: external data location "${location}" is not inside the model's directory; ` +
          `onnxruntime reads external data only from beside the model`,
      );
    }
    const file = join(dir, rel);
    try {
      files.push({ location, path: file, ...(await sha256File(file)) });
    } catch (e) {
      throw new BackboneError(
        `${path}: cannot read the external data file "${location}" (${file}) the model's tensors name: ${
          (e as Error).message
        }`,
      );
    }
  }
  return files;
}

/** A loaded ONNX backbone. Call `close()` when done. */
export class OnnxBackbone {
  readonly id: string;
  readonly path: string;
  /** sha256 (hex) of the model file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
  /** The external data files the model reads, each hashed. */
  readonly externalData: ExternalDataFile[];
  /** What identifies every byte the model reads (= sha256 when there is no external data). */
  readonly contentHash: string;
  readonly executionProvider: string;
  readonly spec: ResolvedInputSpec;
  readonly inputName: string;
  readonly outputName: string;
  readonly featureDim: number;
  /** Batch size of each inference call. */
  readonly batchSize: number;
  /** The model's fixed batch dimension, when it has one (batches are then padded to it). */
  readonly fixedBatch: number | null;
  readonly threads: number;
  readonly modelInputShape: (number | string)[];
  readonly modelOutputShape: (number | string)[];
  /** Number of inference calls made so far (probe included): 0 means no work was done. */
  runs = 0;
  #session: ort.InferenceSession | null;

  private constructor(
    init: {
      id: string;
      path: string;
      sha256: string;
      bytes: number;
      externalData: ExternalDataFile[];
      contentHash: string;
      executionProvider: string;
      spec: ResolvedInputSpec;
      inputName: string;
      outputName: string;
      featureDim: number;
      batchSize: number;
      fixedBatch: number | null;
      threads: number;
      modelInputShape: (number | string)[];
      modelOutputShape: (number | string)[];
      runs: number;
    },
    session: ort.InferenceSession,
  ) {
    this.id = init.id;
    this.path = init.path;
    this.sha256 = init.sha256;
    this.bytes = init.bytes;
    this.externalData = init.externalData;
    this.contentHash = init.contentHash;
    this.executionProvider = init.executionProvider;
    this.spec = init.spec;
    this.inputName = init.inputName;
    this.outputName = init.outputName;
    this.featureDim = init.featureDim;
    this.batchSize = init.batchSize;
    this.fixedBatch = init.fixedBatch;
    this.threads = init.threads;
    this.modelInputShape = init.modelInputShape;
    this.modelOutputShape = init.modelOutputShape;
    this.runs = init.runs;
    this.#session = session;
  }

  /** Loads a model and checks it against the declaration; nothing is extracted here. */
  static async load(decl: BackboneDecl, options: BackboneLoadOptions = {}): Promise<OnnxBackbone> {
    const path = decl.onnx;
    const id = decl.id ?? path.split(/[\\/]/).pop()!;
    let spec: ResolvedInputSpec;
    try {
      spec = resolveInputSpec(decl.input, `${path}: input spec`);
    } catch (e) {
      throw new BackboneError((e as Error).message);
    }
    const executionProvider = options.executionProvider ?? DEFAULT_EXECUTION_PROVIDER;
    checkExecutionProvider(executionProvider);
    let modelBytes: Uint8Array;
    try {
      modelBytes = await Deno.readFile(path);
    } catch (e) {
      throw new BackboneError(`${path}: cannot read the ONNX model: ${(e as Error).message}`);
    }
    const sha256 = sha256Hex(modelBytes);
    const externalData = await hashExternalData(path, modelBytes);
    const contentHash = externalData.length
      ? sha256Hex([sha256, ...externalData.map((f) => `${f.location}\u0000${f.sha256}`)].join("\u0000"))
      : sha256;
    const threads = options.threads ?? Math.max(1, navigator.hardwareConcurrency || 1);
    let session: ort.InferenceSession;
    try {
      // By path, not from the bytes: onnxruntime resolves external data relative to the file only.
      session = await ort.InferenceSession.create(path, {
        executionProviders: [executionProvider],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
        // Idle pool threads sleep instead of spinning: a parallel run extracts beside its cells'
        // workers, whose cores a spinning pool would take (values do not depend on it).
        extra: { session: { intra_op: { allow_spinning: "0" } } },
      });
    } catch (e) {
      const cause = (e as Error).message;
      if (executionProvider !== DEFAULT_EXECUTION_PROVIDER) {
        throw providerStartFailure(executionProvider, path, cause);
      }
      throw new BackboneError(`${path}: onnxruntime cannot load the model: ${cause}`);
    }
    try {
      return await OnnxBackbone.#check(
        session,
        {
          id,
          path,
          sha256,
          bytes: modelBytes.length,
          externalData,
          contentHash,
          executionProvider,
          spec,
          threads,
        },
        decl,
        options,
      );
    } catch (e) {
      await session.release().catch(() => {});
      throw e;
    }
  }

  static async #check(
    session: ort.InferenceSession,
    base: {
      id: string;
      path: string;
      sha256: string;
      bytes: number;
      externalData: ExternalDataFile[];
      contentHash: string;
      executionProvider: string;
      spec: ResolvedInputSpec;
      threads: number;
    },
    decl: BackboneDecl,
    options: BackboneLoadOptions,
  ): Promise<OnnxBackbone> {
    const { path, spec } = base;
    const expected = specShape(spec);
    const expectedText = `${formatShape(expected)} (${spec.layout}, channels ${spec.channels}, size ${
      spec.size[0]
    }×${spec.size[1]})`;

    // ---- input ----
    const inputs = session.inputMetadata;
    if (inputs.length !== 1) {
      throw new BackboneError(
        `${path}: expected one image input ${expectedText}, but the model has ${inputs.length} inputs: ` +
          inputs.map(describeValue).join(", "),
      );
    }
    const input = inputs[0];
    if (!isTensorMeta(input) || input.type !== "float32") {
      throw new BackboneError(
        `${path}: input ${describeValue(input)}: expected a float32 tensor ${expectedText}`,
      );
    }
    const inShape = [...input.shape];
    if (inShape.length !== 0) {
      const mismatch = inShape.length !== 4 ||
        inShape.some((d, i) => i > 0 && typeof d === "number" && d !== expected[i]);
      if (mismatch) {
        let hint = "";
        if (inShape.length === 4) {
          const other = specShape({ ...spec, layout: spec.layout === "NCHW" ? "NHWC" : "NCHW" });
          if (inShape.every((d, i) => i === 0 || typeof d !== "number" || d === other[i])) {
            hint = `; the model looks ${spec.layout === "NCHW" ? "NHWC" : "NCHW"}: set layout accordingly`;
          }
        }
        throw new BackboneError(
          `${path}: input "${input.name}" has shape ${
            formatShape(inShape)
          } but the spec expects ${expectedText}${hint}`,
        );
      }
    }
    const fixedBatch = typeof inShape[0] === "number" && inShape[0] > 0 ? inShape[0] : null;
    const batchSize = fixedBatch ?? options.batchSize ?? 256;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new BackboneError(`${path}: batch size ${batchSize}: expected a positive integer`);
    }

    // ---- output ----
    const outputs = session.outputMetadata;
    const want = decl.output ?? 0;
    const output = typeof want === "number" ? outputs[want] : outputs.find((o) => o.name === want);
    const available = outputs.map((o, i) => `${i}: ${describeValue(o)}`).join(", ");
    if (!output) {
      throw new BackboneError(
        `${path}: output ${
          typeof want === "number" ? `#${want}` : `"${want}"`
        } not found; the model's outputs are ${available}`,
      );
    }
    if (!isTensorMeta(output) || output.type !== "float32") {
      throw new BackboneError(`${path}: output ${describeValue(output)}: expected a float32 tensor [N, d]`);
    }
    const outShape = [...output.shape];
    if (outShape.length > 0 && typeof outShape[0] === "number" && fixedBatch === null && outShape[0] !== 1) {
      throw new BackboneError(
        `${path}: output "${output.name}" has shape ${
          formatShape(outShape)
        }: expected the batch [N, …] first ` +
          `(the input is ${formatShape(inShape)})`,
      );
    }
    if (
      outShape.length > 0 && fixedBatch !== null && typeof outShape[0] === "number" &&
      outShape[0] !== fixedBatch
    ) {
      throw new BackboneError(
        `${path}: output "${output.name}" has shape ${
          formatShape(outShape)
        } but the input's batch is ${fixedBatch}`,
      );
    }
    let featureDim: number | null = null;
    if (outShape.length >= 1 && outShape.slice(1).every((d) => typeof d === "number" && d > 0)) {
      featureDim = (outShape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    }

    const backbone = new OnnxBackbone({
      ...base,
      inputName: input.name,
      outputName: output.name,
      featureDim: featureDim ?? 0,
      batchSize,
      fixedBatch,
      modelInputShape: inShape,
      modelOutputShape: outShape,
      runs: 0,
    }, session);
    if (featureDim === null) {
      // Symbolic feature dimension: one probe run on a zero batch reads it (and shows the model
      // really runs at the spec's shape) before any work.
      const n = fixedBatch ?? 1;
      const probe = await backbone.#infer(
        new Float32Array(n * spec.channels * spec.size[0] * spec.size[1]),
        n,
      );
      if (probe.dims.length < 1 || probe.dims[0] !== n) {
        throw new BackboneError(
          `${path}: output "${output.name}" of a probe batch of ${n} has shape ${formatShape(probe.dims)}: ` +
            `expected [${n}, …] (batch first)`,
        );
      }
      const d = probe.dims.slice(1).reduce((a, b) => a * b, 1);
      if (d < 1) {
        throw new BackboneError(
          `${path}: output "${output.name}" has shape ${formatShape(probe.dims)}: no features`,
        );
      }
      (backbone as { featureDim: number }).featureDim = d;
    }
    return backbone;
  }

  /** One inference call on an already preprocessed batch of `n` images. */
  async #infer(x: Float32Array, n: number): Promise<{ data: Float32Array; dims: number[] }> {
    if (!this.#session) throw new BackboneError(`${this.path}: backbone is closed`);
    const dims = specShape(this.spec, n) as number[];
    const per = this.spec.channels * this.spec.size[0] * this.spec.size[1];
    const feeds = { [this.inputName]: new ort.Tensor("float32", x.subarray(0, n * per), dims) };
    this.runs++;
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.#session.run(feeds, [this.outputName]);
    } catch (e) {
      throw new BackboneError(
        `${this.path}: onnxruntime failed on a batch of ${formatShape(dims)} (model input ${
          formatShape(this.modelInputShape)
        }): ${(e as Error).message}`,
      );
    }
    const out = result[this.outputName];
    if (!out || out.type !== "float32") {
      throw new BackboneError(`${this.path}: output "${this.outputName}" is missing or not float32`);
    }
    return { data: out.data as Float32Array, dims: [...out.dims] };
  }

  /** Checks that images of this shape can be fed (channels, size, resize policy); throws otherwise. */
  checkImages(shape: readonly [number, number, number, number], where = this.path): void {
    try {
      checkImageShape(this.spec, shape[1], shape[2], shape[3], where);
    } catch (e) {
      if (e instanceof InputSpecError) throw new BackboneError(e.message);
      throw e;
    }
  }

  /**
   * Features of rows `rows` of `images` (default: every image), as a row-major Float32Array
   * [rows.length, featureDim].
   */
  async run(images: ImageBatch, rows?: ArrayLike<number>, options: RunOptions = {}): Promise<Float32Array> {
    const [n, c, h, w] = images.shape;
    if (images.data.length !== n * c * h * w) {
      throw new BackboneError(
        `${this.path}: image data has ${images.data.length} values, shape ${formatShape(images.shape)}`,
      );
    }
    let spec = this.spec;
    if (options.normalized) {
      const want = [spec.channels, spec.size[0], spec.size[1]];
      if (!(images.data instanceof Float32Array) || [c, h, w].some((v, i) => v !== want[i])) {
        throw new BackboneError(
          `${this.path}: normalised images must be float32 ${formatShape(["n", ...want])} (NCHW), got ${
            images.data instanceof Float32Array ? "float32" : "uint8"
          } ${formatShape(["n", c, h, w])}`,
        );
      }
      spec = { ...spec, resize: "none", mean: new Array(c).fill(0), std: new Array(c).fill(1) };
    } else this.checkImages(images.shape, `${this.path} (${this.id})`);
    const sel = rows ?? Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < sel.length; i++) {
      if (!Number.isInteger(sel[i]) || sel[i] < 0 || sel[i] >= n) {
        throw new BackboneError(`${this.path}: row ${sel[i]} (position ${i}) is outside the ${n} images`);
      }
    }
    const total = sel.length, d = this.featureDim;
    const batch = options.batchSize && this.fixedBatch === null ? options.batchSize : this.batchSize;
    const out = new Float32Array(total * d);
    const per = this.spec.channels * this.spec.size[0] * this.spec.size[1];
    const buf = new Float32Array(batch * per);
    const progress = options.progress;
    for (let start = 0; start < total; start += batch) {
      const m = Math.min(batch, total - start);
      const chunk = Array.prototype.slice.call(sel, start, start + m) as number[];
      preprocess(spec, images.data, images.shape, chunk, buf);
      const runN = this.fixedBatch ?? m;
      if (runN > m) buf.fill(0, m * per, runN * per); // pad a fixed-size batch
      const r = await this.#infer(buf, runN);
      if (r.dims[0] !== runN || r.data.length !== runN * d) {
        throw new BackboneError(
          `${this.path}: output "${this.outputName}" has shape ${
            formatShape(r.dims)
          } for a batch of ${runN}; ` +
            `expected [${runN}, ${d}] (model output ${formatShape(this.modelOutputShape)})`,
        );
      }
      const feats = r.data.subarray(0, m * d);
      for (let i = 0; i < feats.length; i++) {
        if (!Number.isFinite(feats[i])) {
          const row = start + Math.floor(i / d);
          const index = options.imageIndex ? options.imageIndex[row] : sel[row];
          throw new BackboneError(
            `${this.path}: non-finite feature (${feats[i]}) for image ${index} at feature ${
              i % d
            } of output ` +
              `"${this.outputName}"${
                options.label ? ` (${options.label})` : ""
              }; NaN/Inf features are rejected`,
          );
        }
      }
      out.set(feats, start * d);
      progress?.(start + m, total);
    }
    return out;
  }

  /** What result tables record about this backbone. */
  info(): BackboneInfo {
    return {
      id: this.id,
      path: this.path,
      sha256: this.sha256,
      bytes: this.bytes,
      externalData: this.externalData,
      contentHash: this.contentHash,
      executionProvider: this.executionProvider,
      runtime: ONNX_RUNTIME,
      input: { name: this.inputName, modelShape: this.modelInputShape, spec: this.spec },
      output: { name: this.outputName, modelShape: this.modelOutputShape, featureDim: this.featureDim },
    };
  }

  /** Releases the onnxruntime session. Idempotent. */
  async close(): Promise<void> {
    const s = this.#session;
    this.#session = null;
    await s?.release();
  }
}

/**
 * `invbench check-backbone`: runs a matrix `backbones:` entry on sample images (at its channels,
 * or grayscale) and compares the features with ones computed elsewhere (tools/export_backbone.py
 * writes both from PyTorch). The images go through invbench's own preprocessing (channels, size,
 * mean/std, layout) and onnxruntime, exactly as in a run, so a pass checks the exported model and
 * the entry together.
 */
import { resolve } from "node:path";
import { BackboneError } from "../errors.ts";
import { readNpyMatrix } from "../data/npy.ts";
import type { BackboneSpec } from "../matrix/schema.ts";
import { OnnxBackbone } from "./onnx_backbone.ts";

export interface CheckBackboneOptions {
  backbone: BackboneSpec;
  /** NPY float32 (n, channels·height·width): NCHW pixel values in [0, 1], before normalisation. */
  images: string;
  /** NPY float32 (n, d): the features the reference computed for those images. */
  features: string;
  /** Directory the entry's `onnx` path is relative to (default: the working directory). */
  baseDir?: string;
  executionProvider?: string;
}

export interface BackboneCheck {
  rows: number;
  cols: number;
  /** max |invbench − reference| over every feature. */
  maxAbsDiff: number;
  /** max |reference|, to read the difference against. */
  maxAbsReference: number;
}

/** Features of the sample images through the entry, compared with the reference's. */
export async function checkBackbone(o: CheckBackboneOptions): Promise<BackboneCheck> {
  const { channels, size: [h, w] } = o.backbone.input;
  const images = readNpyMatrix(o.images);
  const reference = readNpyMatrix(o.features);
  // Grayscale images for a model of more channels are replicated, as in a run.
  const c = images.cols === h * w ? 1 : channels;
  if (images.cols !== c * h * w) {
    throw new BackboneError(
      `${o.images}: rows of ${images.cols} values; the entry's input needs ${channels}·${h}·${w} = ${
        channels * h * w
      } (NCHW), or ${h}·${w} for grayscale`,
    );
  }
  if (reference.rows !== images.rows) {
    throw new BackboneError(`${o.features}: ${reference.rows} rows for ${images.rows} images in ${o.images}`);
  }
  const model = await OnnxBackbone.load({
    id: o.backbone.id,
    onnx: resolve(o.baseDir ?? ".", o.backbone.onnx),
    output: o.backbone.output,
    input: o.backbone.input,
  }, { executionProvider: o.executionProvider });
  try {
    if (model.featureDim !== reference.cols) {
      throw new BackboneError(
        `${o.features}: ${reference.cols} features per row; output "${model.outputName}" has ${model.featureDim}`,
      );
    }
    const got = await model.run({ data: images.data, shape: [images.rows, c, h, w] });
    let maxAbsDiff = 0, maxAbsReference = 0;
    for (let i = 0; i < got.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - reference.data[i]));
      maxAbsReference = Math.max(maxAbsReference, Math.abs(reference.data[i]));
    }
    return { rows: reference.rows, cols: reference.cols, maxAbsDiff, maxAbsReference };
  } finally {
    await model.close();
  }
}

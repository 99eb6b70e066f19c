/**
 * The datasets the fixture backbones are pretrained on, their normalisation constants, and the
 * pixel → network-input conversion shared by pretraining, the ONNX check and the probes.
 */
import type { Dataset, SplitOptions } from "../data/dataset.ts";
import { loadFashionMnistSplits } from "../data/fashion_mnist.ts";
import { loadMnist } from "../data/mnist.ts";

export type FixtureDatasetName = "mnist" | "fashion-mnist";
export const FIXTURE_DATASETS: readonly FixtureDatasetName[] = ["mnist", "fashion-mnist"];

/**
 * Mean and standard deviation of the train pixels (values / 255), used to normalise the inputs:
 * MNIST's customary constants; Fashion-MNIST's computed over the 60000 train images of the packaged
 * split (src/data/fashion_mnist.ts) by `pixelStats` (0.286018 / 0.352805) and rounded to 4 digits.
 */
export const NORMALISATION: Readonly<Record<FixtureDatasetName, { mean: number; std: number }>> = {
  mnist: { mean: 0.1307, std: 0.3081 },
  "fashion-mnist": { mean: 0.286, std: 0.3528 },
};

/** Loads the train and test splits of a fixture dataset (uint8 1×28×28 images). */
export function loadFixtureDataset(
  name: FixtureDatasetName,
  options: { train?: SplitOptions; test?: SplitOptions } = {},
): { train: Dataset; test: Dataset } {
  if (name === "mnist") {
    return { train: loadMnist("train", options.train), test: loadMnist("test", options.test) };
  }
  if (name === "fashion-mnist") return loadFashionMnistSplits(options);
  throw new RangeError(`unknown dataset "${name}"; expected one of ${FIXTURE_DATASETS.join(", ")}`);
}

/** Mean and (population) standard deviation of all pixels, as values / 255, in float64. */
export function pixelStats(images: ArrayLike<number>): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < images.length; i++) {
    const v = images[i] / 255;
    s += v;
    s2 += v * v;
  }
  const mean = s / images.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / images.length - mean * mean)) };
}

/** (pixel / 255 − mean) / std for every value of `images` (raw 0–255 scale). */
export function normalise(images: ArrayLike<number>, norm: { mean: number; std: number }): Float32Array {
  const out = new Float32Array(images.length);
  const a = 1 / (255 * norm.std), b = norm.mean / norm.std;
  for (let i = 0; i < out.length; i++) out[i] = images[i] * a - b;
  return out;
}

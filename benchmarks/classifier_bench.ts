/**
 * The downstream linear classifier (LC) at the protocol's schedule (50 epochs, batch 256, AdamW)
 * on 10000 MNIST training images as raw pixels (784 inputs), on the CPU backend: the training
 * that every cell of a matrix repeats once per method and seed.
 *
 *   deno bench -A benchmarks/classifier_bench.ts
 */
import { Classifier, CpuBackend } from "../mod.ts";
import { mnistDataDir, readIdxDir } from "../src/data/mnist.ts";

const N = 10000;
const train = readIdxDir(mnistDataDir(), "train");
const pixels = Float32Array.from(train.raw.values.subarray(0, N * 784), (p) => p / 255);
const labels = train.raw.labels.subarray(0, N);
const backend = new CpuBackend();

Deno.bench({
  name: "classifier LC cpu, 10000 MNIST images x 784 pixels, 50 epochs",
  n: 3,
  warmup: 1,
  async fn() {
    const c = await Classifier.train(pixels, labels, {
      kind: "LC",
      inputDim: 784,
      classes: 10,
      seed: 0,
      backend,
    });
    c.dispose();
  },
});

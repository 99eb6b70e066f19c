/**
 * The downstream linear classifier (LC) at the protocol's schedule (50 epochs, batch 256, AdamW)
 * on the CPU backend: the training that every cell of a matrix repeats once per method and seed.
 * On 10000 MNIST training images as raw pixels (784 inputs), and at the default matrix's shape:
 * 5000 rows of 128 features (standard normals here; the time does not depend on the values), on
 * one thread as each worker of a parallel run has.
 *
 *   deno bench -A benchmarks/classifier_bench.ts
 */
import { Classifier, CounterRng, CpuBackend } from "../mod.ts";
import { GEMM_THREADS, setGemmThreads } from "../src/tensor/backends/ort_gemm.ts";
import { setElementwiseThreads } from "../src/tensor/backends/cpu_threads.ts";
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

const features = new CounterRng(0, "bench", "classifier").normals(5000 * 128);
const classes = Int32Array.from({ length: 5000 }, (_, i) => i % 10);

Deno.bench({
  name: "classifier LC cpu, 5000 x 128 features (the default matrix's), 50 epochs, one thread",
  n: 5,
  warmup: 1,
  async fn() {
    setGemmThreads(1);
    setElementwiseThreads(1);
    try {
      const c = await Classifier.train(features, classes, {
        kind: "LC",
        inputDim: 128,
        classes: 10,
        seed: 0,
        backend,
      });
      c.dispose();
    } finally {
      setGemmThreads(GEMM_THREADS);
      setElementwiseThreads(GEMM_THREADS);
    }
  },
});

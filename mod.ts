/**
 * invbench: the public library API. Everything a user or another tool may import is re-exported
 * here; modules under src/ not listed here are internal.
 */
export {
  BackboneError,
  ConfigError,
  DataError,
  type DataErrorPlace,
  EXIT,
  exitCodeOf,
  InputError,
  InputSpecError,
  InvbenchError,
  KeyFileError,
  MatrixError,
  MergeError,
  MethodFileError,
  ResultFormatError,
  ResultsDifferError,
  RunDirError,
  SubmissionError,
  SubmissionsOmittedError,
  TensorError,
  TracksError,
  VerificationError,
} from "./src/errors.ts";
export type { AdamWStep, Axis, Backend, BinaryOp, Shape, Storage, UnaryOp } from "./src/tensor/backend.ts";
export { getBackend, IndexTensor, keep, noGrad, setBackend, Tensor, tidy } from "./src/tensor/tensor.ts";
export * from "./src/tensor/ops.ts";
export { grad } from "./src/tensor/autograd.ts";
export { AdamW, type AdamWOptions, cosineLr } from "./src/tensor/optim.ts";
export { BACKEND_KINDS, type BackendChoice, type BackendKind, selectBackend } from "./src/tensor/select.ts";
export { describeAdapter } from "./src/tensor/adapter_info.ts";
export { CpuBackend } from "./src/tensor/backends/cpu.ts";
export { createWebGpuBackend, WebGpuBackend } from "./src/tensor/backends/webgpu/backend.ts";
export { CounterRng, philox4x32, type StreamLabel } from "./src/rng/philox.ts";
export { initLinear, type Linear, Mlp } from "./src/nn/mlp.ts";
export { trainStep } from "./src/nn/train_step.ts";
export { mawaLoss } from "./src/methods/losses/mawa.ts";

// ---- data, augmentation, backbones, features ------------------------------------------
export {
  DATA_SOURCES,
  type DataSource,
  type DataSpec,
  type LoadContext,
  loadDataset,
  loadDatasetSplits,
} from "./src/data/registry.ts";
export type { Dataset, FeatureDataset, Split, SplitOptions } from "./src/data/dataset.ts";
export {
  type FileManifest,
  manifestDifference,
  type ManifestEntry,
  manifestSummary,
  parseManifest,
} from "./src/data/file_manifest.ts";
export {
  augmentBatch,
  augmentBatchWith,
  batchOf,
  type ImageBatch,
  readBatch,
} from "./src/augment/augment.ts";
export {
  AUGMENTATIONS,
  type AugmentSpec,
  type ResolvedSpec,
  resolveSpec,
  sampleParams,
  transformBins,
} from "./src/augment/spec.ts";
export { type AugmentationKind, defineAugmentation } from "./src/augment/kind.ts";
export type { TransformBins } from "./src/augment/bins.ts";
export { writePreview } from "./src/augment/preview.ts";
export { type BackboneInfo, type ExternalDataFile, OnnxBackbone } from "./src/backbone/onnx_backbone.ts";
export { type BackboneCheck, checkBackbone } from "./src/backbone/check_backbone.ts";
export { describeExecutionProviders } from "./src/backbone/execution_provider.ts";
export {
  extractFeatureRows,
  extractFeatures,
  type FeatureAugmentation,
  featureAugmentation,
} from "./src/backbone/extract.ts";
export { clearCache, defaultCacheDir, FeatureCache, listCache } from "./src/cache/feature_cache.ts";
export { type FeatureRows, type FeatureStream, memoryRows, spillRows } from "./src/cache/feature_rows.ts";
export { conv2d, maxPool2d } from "./src/nn/conv2d.ts";
export { FixtureCnn } from "./src/backbone/fixture_cnn.ts";

// ---- methods and metrics ----------------------------------------------------------------
export { slicedWasserstein, swDistance } from "./src/methods/sliced_wasserstein.ts";
export {
  type AdapterLoss,
  type LossBatch,
  LOSSES,
  lossFor,
  type LossName,
} from "./src/methods/losses/index.ts";
export {
  type AugmentationEntry,
  type AugmentationField,
  augmentationField,
  type Catalogs,
  type ClassifierEntry,
  type DataSourceEntry,
  type LossEntry,
  type MethodEntry,
  type ParamSpec,
  type ParamsSpec,
  resolveParams,
} from "./src/catalog/entries.ts";
export { Adapter, type AdapterOptions } from "./src/methods/adapter.ts";
export { Classifier, type ClassifierKind, CLASSIFIERS } from "./src/methods/classifier.ts";
export {
  type CellFeatures,
  defineMethod,
  type FittedMethod,
  type MethodKind,
  type MethodOf,
} from "./src/methods/method.ts";
export { fitMethod, METHODS } from "./src/methods/registry.ts";
export { type StructureMetrics, structureMetrics } from "./src/metrics/structure.ts";
export { collisionRates } from "./src/metrics/collision.ts";
export { applyRigid, fitRigid } from "./src/metrics/procrustes.ts";
export { accuracy, augmentedAccuracy } from "./src/metrics/accuracy.ts";

// ---- matrices, runs, results ------------------------------------------------------------
export { ADAPTER_KIND, isAdapter, MATRIX_SCHEMA_ID, type MatrixSpec } from "./src/matrix/schema.ts";
export { CATALOGS, expandMatrix, loadMatrix, parseMatrix } from "./src/catalogs.ts";
export { type Cell, filterCells, parseShard, shardCells } from "./src/matrix/expand.ts";
export { runMatrix, type RunOptions } from "./src/run/runner.ts";
export { reproduce } from "./src/run/reproduce.ts";
// ---- distributed runs (docs/distributed.md) -----------------------------------------------
export { selectShard, SHARD_BY, type ShardBy, splitIntoShards } from "./src/matrix/shard.ts";
export { estimateCost } from "./src/matrix/cost.ts";
export { type ResolvedShard, resolveShard } from "./src/run/scheduler_shard.ts";
export { type MergeOptions, mergeShards } from "./src/run/merge.ts";
export { planLaunch } from "./src/launch/plan.ts";
export { slurmScripts, submitSlurm, writeSlurmScripts } from "./src/launch/slurm.ts";
export { kubernetesManifests, renderManifest } from "./src/launch/kubernetes.ts";
export { missingTrackCells } from "./src/leaderboard/coverage.ts";
export { type EnvFingerprint, envFingerprint } from "./src/run/env.ts";
export { readResult, RESULT_SCHEMA_ID, type ResultDocument, type ResultRow } from "./src/results/schema.ts";
export { compareResults, type Comparison, formatComparison, type Tolerance } from "./src/results/compare.ts";
export { renderCsv, renderMarkdown, summarizeRows } from "./src/results/table.ts";
export { cellTable, type FlatTable, summaryTable } from "./src/results/flat_table.ts";
export {
  renderTableCsv,
  renderTableJsonl,
  renderTableParquet,
  TABLE_FORMATS,
  type TableFormat,
} from "./src/results/table_formats.ts";
export { summarize } from "./src/results/stats.ts";
export { type Deviation, deviationsOf } from "./src/results/deviations.ts";
export { PAPER_SETTINGS } from "./src/results/paper_protocol.ts";
export { methodLabel } from "./src/results/method_label.ts";
export {
  generateKeys,
  readJwks,
  readPrivateKey,
  signDocument,
  verifyDocument,
} from "./src/results/signing.ts";

// ---- leaderboard ------------------------------------------------------------------------
export { buildLeaderboard, type BuildOptions } from "./src/leaderboard/build.ts";
export { type SubmitOptions, submitResult } from "./src/leaderboard/submit.ts";

// ---- method files -----------------------------------------------------------------------
export type { LossDefinition, LossOps } from "./src/methods/user/definition.ts";
export { UserLoss } from "./src/methods/user/user_loss.ts";

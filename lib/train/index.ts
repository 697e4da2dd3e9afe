// Training cells: heads, compile, trainPhase with Keras callbacks, two-phase fine-tuning, cached features.
export {
  buildHead,
  headBoundary,
  HEADS,
  type HeadSpec,
  type HeadLayerSpec,
  type ActivationName,
} from './heads';
export {
  compile,
  adam,
  sgd,
  rmsprop,
  topKCategoricalAccuracy,
  crossEntropy,
  getLearningRate,
  setLearningRate,
  isCompiled,
  type CompileOptions,
  type OptimizerSpec,
  type LossName,
  type MetricSpec,
} from './compile';
export { trainPhase, evaluateLoss, type TrainPhaseOptions, type TrainSource } from './loop';
export {
  EarlyStopping,
  ReduceLROnPlateau,
  ModelCheckpoint,
  CSVLogger,
  TerminateOnNaN,
  formatCheckpointPath,
  defaultCheckpointWriter,
  type TrainCallback,
  type TrainContext,
  type Logs,
  type EarlyStoppingOptions,
  type ReduceLROnPlateauOptions,
  type ModelCheckpointOptions,
  type CSVLoggerOptions,
  type CheckpointWriter,
} from './callbacks';
export { saveCheckpoint, loadCheckpoint, loadCheckpointWeights } from './checkpoint';
export { mergeHistories, bestEpoch, historySummary, lastMetrics, historySeconds } from './history';
export {
  cachedFeatures,
  frozenBoundary,
  clearFeatureMemory,
  featureMemoryBytes,
  isFeatureDataset,
  type FeatureDataset,
  type FeatureBatch,
  type CachedFeaturesOptions,
  type FeatureCacheStats,
} from './cache';
export { featureStats, type FeatureStats } from './feature-stats';
export { bottomModel, splitModel, findLayerOutput } from './graph';
export { layersFingerprint } from './fingerprint';
export { fineTune, type FineTuneOptions, type FineTuneResult, type SourceFor } from './finetune';

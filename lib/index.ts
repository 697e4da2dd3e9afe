// The notebooks' entry point (`import * as nb from "./lib/index"`): the cells a notebook calls and
// their option and result types, grouped as the README's library table. Everything else stays
// importable from its module (e.g. `./lib/models/h5` for loadKerasWeights).

// Settings: one config cell per notebook, both profiles side by side.
export { profileConfig, currentProfile, CACHE_DIR, dataDirFromEnv, runDir } from './config';
export type { Profile } from './config';
export { setRandomSeed } from './seed';

// Rich output: HTML, Markdown, SVG, PNG, text, a multi-mime bundle, a display updated in place.
export {
  showHtml,
  showMarkdown,
  showSvg,
  showPng,
  showText,
  showBundle,
  newDisplay,
  headlineMetrics,
} from './display';
export type { MimeBundle, LiveDisplay } from './display';

// Backend: which tfjs backend runs the notebook, and why.
export { initBackend, backendInfo } from './backend/index';
export type { BackendInfo } from './backend/index';

// Data: folder and CSV datasets, augmentation and its preview, the datasets' folders (or the synthetic stand-in).
export {
  imageDatasetFromDirectory,
  flowFromDirectory,
  datasetFromCsv,
  ImageDataGenerator,
  previewAugmentation,
} from './data/index';
export { gtsrbFolders, carsFolders } from './data/sources';
export type {
  ImageDatasetFromDirectoryOptions,
  FlowFromDirectoryOptions,
  ClassMode,
  DatasetFromCsvOptions,
  ImageDataGeneratorOptions,
  PreviewOptions,
  PreviewResult,
} from './data/index';
export type { DataFolders, SyntheticFallback } from './data/sources';
export type { ImageDataset, Batch, LabelMode, ImageSize } from './data/types';

// Models: the Keras bases, preprocess_input, ImageNet weights, freezing, summaries, save and load.
export {
  vgg16,
  resnet50,
  inceptionV3,
  preprocessInput,
  withPreprocessing,
  weightsLabel,
  freeze,
  unfreeze,
  trainableSummary,
  showModelSummary,
  saveModel,
  loadModel,
} from './models/index';
export type {
  ApplicationOptions,
  PreprocessMode,
  WeightsChoice,
  LayerSelection,
  TrainableSummary,
  ModelSummary,
} from './models/index';

// Training: heads, compile, trainPhase with Keras callbacks, two-phase fine-tuning, cached features.
export {
  buildHead,
  HEADS,
  compile,
  adam,
  sgd,
  rmsprop,
  topKCategoricalAccuracy,
  trainPhase,
  evaluateLoss,
  EarlyStopping,
  ReduceLROnPlateau,
  ModelCheckpoint,
  CSVLogger,
  TerminateOnNaN,
  fineTune,
  cachedFeatures,
  featureStats,
  mergeHistories,
  historySeconds,
} from './train/index';
export type {
  HeadSpec,
  HeadLayerSpec,
  CompileOptions,
  OptimizerSpec,
  LossName,
  MetricSpec,
  TrainPhaseOptions,
  TrainSource,
  Logs,
  TrainCallback,
  EarlyStoppingOptions,
  ReduceLROnPlateauOptions,
  ModelCheckpointOptions,
  CSVLoggerOptions,
  FineTuneOptions,
  FineTuneResult,
  CachedFeaturesOptions,
  FeatureDataset,
  FeatureStats,
} from './train/index';
export type { History, EpochLog, PhaseMark } from './train/types';

// Evaluation: loss, accuracy and top-k on a dataset, sklearn's report and confusion matrix.
export { evaluate, classificationReport, confusionMatrix } from './evaluate/index';
export type {
  EvaluateOptions,
  EvaluationResult,
  ClassificationReport,
  ClassificationReportOptions,
} from './evaluate/index';

// Charts: learning curves, confusion matrix, image grids, one-image prediction, results tables,
// the learning-rate finder, top losses, Grad-CAM.
export {
  plotHistory,
  plotPhases,
  compareHistories,
  plotLearningRate,
  historyChartBundle,
  plotConfusionMatrix,
  predictGrid,
  showBatch,
  predictImage,
  resultsTable,
  PUBLISHED_RESULTS,
  plotTopLosses,
  gradCam,
  gradCamGrid,
  lrFind,
} from './charts/index';
export type {
  Chart,
  PlotHistoryOptions,
  CompareHistoriesOptions,
  PlotConfusionMatrixOptions,
  ConfusionMatrixChart,
  PredictGridOptions,
  PredictGridResult,
  ShowBatchOptions,
  PredictImageOptions,
  PredictImageResult,
  ResultRow,
  ResultsTableOptions,
  ResultsTable,
  PublishedResult,
} from './charts/index';
export type { LrFindOptions, LrFindResult } from './charts/lr-find';
export type { PlotTopLossesOptions, PlotTopLossesResult, TopLoss } from './charts/top-losses';
export type {
  GradCamOptions,
  GradCamResult,
  GradCamMap,
  GradCamGridOptions,
  GradCamGridResult,
} from './charts/grad-cam';

// Shipping: the trained model as a web page (tfjs LayersModel + one self-contained index.html).
export { exportForWeb } from './export/index';

// The notebooks' entry point (`import * as nb from "./lib/index"`): the cells a notebook calls and
// their option and result types, grouped as the README's library table. Everything else stays
// importable from its module (e.g. `./lib/models/h5` for loadKerasWeights).

// Settings: one config cell per notebook, both profiles side by side.
export {
  profileConfig,
  currentProfile,
  CACHE_DIR,
  dataDirFromEnv,
  runDir,
  type Profile,
} from './config';
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
  type MimeBundle,
  type LiveDisplay,
} from './display';

// Backend: which tfjs backend runs the notebook, and why.
export { initBackend, backendInfo, type BackendInfo } from './backend/index';

// Data: folder and CSV datasets, augmentation and its preview, the datasets' folders (or the synthetic stand-in).
export {
  imageDatasetFromDirectory,
  flowFromDirectory,
  type ImageDatasetFromDirectoryOptions,
  type FlowFromDirectoryOptions,
  type ClassMode,
} from './data/directory';
export { datasetFromCsv, type DatasetFromCsvOptions } from './data/csv';
export { ImageDataGenerator, type ImageDataGeneratorOptions } from './data/augment';
export { previewAugmentation, type PreviewOptions, type PreviewResult } from './data/preview';
export { labelSafeAugmentation, type LabelSafeAugmentation } from './data/label-safe';
export {
  gtsrbFolders,
  carsFolders,
  type DataFolders,
  type SyntheticFallback,
} from './data/sources';
export type { ImageDataset, Batch, LabelMode, ImageSize } from './data/types';
// Your own images (notebook 04): where they are, what is wrong with them, leaks between splits; the EXIF policy.
export {
  imagesFromEnv,
  checkImages,
  findDuplicates,
  type ImagesSource,
  type ImageCheck,
  type SplitLeak,
} from './data/own-images';
export { setExifTranspose, exifTranspose } from './data/decode';

// Models: the Keras bases, preprocess_input, ImageNet weights, freezing, summaries, save and load.
export {
  vgg16,
  resnet50,
  inceptionV3,
  architecture,
  architectures,
  type Architecture,
} from './models/architectures';
export { preprocessInput, type PreprocessMode } from './data/preprocess';
export { withPreprocessing } from './models/with-preprocessing';
export { weightsLabel, type WeightsChoice } from './models/choose-weights';
export {
  freeze,
  unfreeze,
  trainableSummary,
  type LayerSelection,
  type TrainableSummary,
} from './models/freeze';
export { showModelSummary, type ModelSummary } from './models/summary';
export { saveModel, loadModel } from './models/saveload';
export type { ApplicationOptions } from './models/architecture';

// Training: heads, compile, trainPhase with Keras callbacks, two-phase fine-tuning, cached features.
export { buildHead, HEADS, type HeadSpec, type HeadLayerSpec } from './train/heads';
export {
  compile,
  adam,
  sgd,
  rmsprop,
  topKCategoricalAccuracy,
  learningRate,
  type CompileOptions,
  type OptimizerSpec,
  type LossName,
  type MetricSpec,
} from './train/compile';
export {
  trainPhase,
  evaluateMetrics,
  lastRun,
  type LastRun,
  type TrainPhaseOptions,
  type TrainSource,
} from './train/loop';
export { loadCheckpoint } from './train/checkpoint';
export {
  EarlyStopping,
  ReduceLROnPlateau,
  ModelCheckpoint,
  CSVLogger,
  TerminateOnNaN,
  type Logs,
  type TrainCallback,
  type EarlyStoppingOptions,
  type ReduceLROnPlateauOptions,
  type ModelCheckpointOptions,
  type CSVLoggerOptions,
} from './train/callbacks';
// Named by ModelCheckpoint's messages (a weights-only checkpoint loads into a model built again).
export { saveCheckpoint, loadCheckpointWeights } from './train/checkpoint';
export { fineTune, type FineTuneOptions, type FineTuneResult } from './train/finetune';
export { cachedFeatures, type CachedFeaturesOptions, type FeatureDataset } from './train/cache';
export { featureStats, type FeatureStats } from './train/feature-stats';
export { mergeHistories, historySeconds, heldEpoch } from './train/history';
export type { History, EpochLog, PhaseMark } from './train/types';

// Evaluation: loss, accuracy and top-k on a dataset, sklearn's report and confusion matrix.
export {
  evaluateWithPredictions,
  type EvaluateOptions,
  type EvaluationResult,
} from './evaluate/evaluate';
export {
  classificationReport,
  type ClassificationReport,
  type ClassificationReportOptions,
} from './evaluate/report';
export { confusionMatrix } from './evaluate/metrics';
export {
  readHistory,
  readResult,
  readComparison,
  readInitialLoss,
  readClasses,
  type Reading,
} from './evaluate/readings';

// What a run is and what it showed: the disclosure every notebook opens with, the differences from
// the walkthrough beside the published numbers, and the conclusion.
export { WALKTHROUGHS, type Walkthrough } from './report/walkthroughs';
export {
  describeRun,
  describeOwnRun,
  readDifferences,
  type RunPlan,
  type DescribeRunOptions,
  type Difference,
} from './report/disclosure';
export { conclude, type Conclusion } from './report/conclusion';

// Charts: learning curves, confusion matrix, image grids, one-image prediction, results tables,
// the learning-rate finder, top losses, Grad-CAM.
export {
  plotHistory,
  plotPhases,
  compareHistories,
  plotLearningRate,
  historyChartBundle,
  type PlotHistoryOptions,
  type CompareHistoriesOptions,
} from './charts/history';
export {
  plotConfusionMatrix,
  type PlotConfusionMatrixOptions,
  type ConfusionMatrixChart,
} from './charts/confusion';
export {
  predictGrid,
  showBatch,
  type PredictGridOptions,
  type PredictGridResult,
  type ShowBatchOptions,
} from './charts/grid';
export {
  predictImage,
  type PredictImageOptions,
  type PredictImageResult,
} from './charts/predict-image';
export {
  resultsTable,
  PUBLISHED_RESULTS,
  type ResultRow,
  type ResultsTableOptions,
  type ResultsTable,
  type PublishedResult,
} from './charts/table';
export {
  plotTopLosses,
  type PlotTopLossesOptions,
  type PlotTopLossesResult,
  type TopLoss,
} from './charts/top-losses';
export {
  gradCam,
  gradCamGrid,
  type GradCamOptions,
  type GradCamResult,
  type GradCamMap,
  type GradCamGridOptions,
  type GradCamGridResult,
} from './charts/grad-cam';
export { lrFind, type LrFindOptions, type LrFindResult } from './charts/lr-find';
export type { Chart } from './charts/render';

// Shipping: the trained model as a web page (tfjs LayersModel + one self-contained index.html).
export { exportForWeb } from './export/web';

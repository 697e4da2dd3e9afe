// Public cells of lib/charts: learning curves, confusion matrix, prediction grids, results tables.
export { specToSvg, chartBundle } from './render';
export type { Chart, ShowOption, VegaLiteSpec } from './render';
export {
  plotHistory,
  plotPhases,
  compareHistories,
  plotLearningRate,
  historyChartSpec,
  historyChartBundle,
} from './history';
export type { PlotHistoryOptions, CompareHistoriesOptions } from './history';
export { formatPercent, formatSeconds } from './format';
export { plotConfusionMatrix, topConfusions } from './confusion';
export type { Confusion, ConfusionMatrixChart, PlotConfusionMatrixOptions } from './confusion';
export {
  predictGrid,
  showBatch,
  composeGrid,
  sampleIndices,
  RIGHT_COLOUR,
  WRONG_COLOUR,
} from './grid';
export type {
  PredictGridOptions,
  PredictGridResult,
  ShowBatchOptions,
  GridLayoutOptions,
  GridTile,
} from './grid';
export { predictImage } from './predict-image';
export type { PredictImageOptions, PredictImageResult } from './predict-image';
export { resultsTable, describeSetup, notComparableBecause, PUBLISHED_RESULTS } from './table';
export type {
  ResultRow,
  PublishedResult,
  PublishedResults,
  ResultsSetup,
  ResultsTableOptions,
  ResultsTable,
} from './table';
export { plotTopLosses, topLosses } from './top-losses';
export type { PlotTopLossesOptions, PlotTopLossesResult, TopLoss } from './top-losses';
export { gradCam, gradCamGrid, gradCamMaps, lastConvLayer, overlayHeatmap } from './grad-cam';
export type {
  GradCamOptions,
  GradCamResult,
  GradCamMap,
  GradCamGridOptions,
  GradCamGridResult,
} from './grad-cam';
export {
  lrFind,
  suggestLearningRates,
  exponentialLr,
  type LrFindOptions,
  type LrFindResult,
} from './lr-find';

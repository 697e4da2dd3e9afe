// Public cells of lib/evaluate: metrics, model evaluation on a dataset, classification report.
export {
  argMax,
  argMaxRows,
  topKIndices,
  inTopK,
  topKAccuracy,
  accuracyScore,
  confusionMatrix,
  categoricalCrossentropy,
} from './metrics';
export type { ScoreRows } from './metrics';
export { evaluate, predictDataset, formatEvaluation } from './evaluate';
export type { EvaluateOptions, EvaluationResult } from './evaluate';
export { classificationReport } from './report';
export type { ClassificationReport, ClassificationReportOptions, ClassScores } from './report';
export { classOrder, defaultClassOrder } from './order';
export type { ClassOrder } from './order';

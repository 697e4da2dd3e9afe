// model.evaluate for an ImageDataset: one pass of predictions, from which loss, accuracy and top-k
// accuracy are computed in plain JS (so they are exact and the predictions can be reused by the
// report, the confusion matrix and the prediction grid without running the model again).
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { describeAs, showText } from '../display';
import { progressReporter, type Progress } from '../io/progress';
import { forEachBatch } from '../io/batches';
import { interruptible } from '../io/interrupt';
import { formatSeconds } from '../io/duration';
import { argMax, categoricalCrossentropy, inTopK, topKIndices } from './metrics';
import { getCompiled, isCompiled, regularizationLoss } from '../train/compile';
import { checkModelInput } from '../models/input-shape';

export interface EvaluateOptions {
  /** k of the top-k accuracy (Keras' TopKCategoricalAccuracy default: 5; the InceptionV3 walkthrough uses 3). */
  topK?: number;
  /**
   * Label smoothing of the loss. Default: the model's, as given to compile (Keras' evaluate uses the
   * compiled loss, so its loss is the val_loss training reported), else 0.
   */
  labelSmoothing?: number;
  /** Add the model's regularization losses (L2 penalties) to the loss, as Keras' evaluate does. Default true. */
  includeRegularization?: boolean;
  /** Keep every probability row in the result (n × classes floats). Default true. */
  keepProbabilities?: boolean;
  /** Show progress and a Keras-like summary line. Default true. */
  show?: boolean;
}

export interface EvaluationResult {
  loss: number;
  accuracy: number;
  /** The k used for topKAccuracy. */
  topK: number;
  topKAccuracy: number;
  /** Number of images evaluated. */
  size: number;
  numClasses: number;
  classNames: string[];
  /** True label of image i (index into dataset.files). */
  labels: number[];
  /** Predicted class (argmax) of image i. */
  predicted: number[];
  /** Probability of the predicted class of image i. */
  confidence: number[];
  /** The k best classes of image i, best first. */
  topKPredicted: number[][];
  /** Row-major [size × numClasses] model outputs (absent with keepProbabilities: false). */
  probabilities?: Float32Array;
  seconds: number;
}

/**
 * Keras-like one-line summary: "loss: 0.2014 - accuracy: 0.9690 - top-3 accuracy: 0.9961 (516 images,
 * 4.12 s)"; the time written as a results table writes it (lib/io/duration).
 */
export function formatEvaluation(
  r: Pick<EvaluationResult, 'loss' | 'accuracy' | 'topK' | 'topKAccuracy' | 'size' | 'seconds'>,
): string {
  return `loss: ${r.loss.toFixed(4)} - accuracy: ${r.accuracy.toFixed(4)} - top-${r.topK} accuracy: ${r.topKAccuracy.toFixed(4)} (${r.size} images, ${formatSeconds(r.seconds)})`;
}

/**
 * Run the model over a dataset (without augmentation, in file order) and return probability rows
 * (what evaluateWithPredictions, plotTopLosses and the prediction grids read). Stops on Jupyter's Interrupt.
 */
export async function predictDataset(
  model: tf.LayersModel,
  dataset: ImageDataset,
  opts: { progress?: Pick<Progress, 'tick'> } = {},
): Promise<{ probabilities: Float32Array; numClasses: number; labels: number[] }> {
  const ds = dataset.withoutAugmentation();
  const n = ds.size;
  let probabilities: Float32Array | null = null;
  let numClasses = 0;
  const labels = new Array<number>(n).fill(-1);
  await forEachBatch(
    ds.batches(),
    async (batch) => {
      checkModelInput(model, batch.xs, 'evaluateWithPredictions');
      const out = model.predict(batch.xs);
      if (Array.isArray(out)) {
        out.forEach((t) => t.dispose());
        throw new Error(
          'evaluateWithPredictions: the model has several outputs; pass a single-output classifier (softmax over classes).',
        );
      }
      const data = (await out.data()) as Float32Array;
      const width = out.shape[out.shape.length - 1] ?? 0;
      out.dispose();
      if (!probabilities) {
        numClasses = width;
        if (numClasses !== ds.classNames.length) {
          throw new Error(
            `evaluateWithPredictions: the model outputs ${numClasses} classes but the dataset has ${ds.classNames.length}; build the head with one unit per class of this dataset.`,
          );
        }
        probabilities = new Float32Array(n * numClasses);
      }
      batch.indices.forEach((idx, r) => {
        probabilities!.set(data.subarray(r * numClasses, (r + 1) * numClasses), idx * numClasses);
        labels[idx] = batch.labels[r];
      });
    },
    { progress: opts.progress },
  );
  if (!probabilities)
    throw new Error(
      'evaluateWithPredictions: the dataset produced no batches; check that its folder has images.',
    );
  return { probabilities, numClasses, labels };
}

/**
 * Keras' `model.evaluate(dataset)` plus what the charts need: loss (categorical cross-entropy of the
 * softmax outputs, with label smoothing and regularization like the compiled Keras loss), accuracy
 * (argmax), top-k accuracy (tf.math.in_top_k: ties at the k-th place count as hits), and the
 * per-image predictions.
 */
export async function evaluateWithPredictions(
  model: tf.LayersModel,
  dataset: ImageDataset,
  opts: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const k = opts.topK ?? 5;
  if (!(Number.isInteger(k) && k >= 1))
    throw new Error(`evaluateWithPredictions: topK=${opts.topK} must be an integer >= 1.`);
  const show = opts.show !== false;
  const start = performance.now();
  const progress = progressReporter('evaluateWithPredictions', {
    total: dataset.numBatches,
    unit: 'batches',
    enabled: show,
  });
  const { probabilities, numClasses, labels } = await interruptible('evaluateWithPredictions', () =>
    predictDataset(model, dataset, { progress }),
  );
  progress.done();
  const n = labels.length;
  const rows = { data: probabilities, numClasses };
  const smoothing =
    opts.labelSmoothing ?? (isCompiled(model) ? getCompiled(model).labelSmoothing : 0);
  let loss = categoricalCrossentropy(labels, rows, smoothing);
  if (opts.includeRegularization !== false) {
    const reg = regularizationLoss(model);
    if (reg) loss += reg.dataSync()[0];
    reg?.dispose();
  }
  const predicted: number[] = [];
  const confidence: number[] = [];
  const topKPredicted: number[][] = [];
  let hits = 0;
  let topHits = 0;
  for (let i = 0; i < n; i++) {
    const row = probabilities.subarray(i * numClasses, (i + 1) * numClasses);
    const p = argMax(row);
    predicted.push(p);
    confidence.push(row[p]);
    topKPredicted.push(topKIndices(row, k));
    if (p === labels[i]) hits++;
    if (inTopK(row, labels[i], k)) topHits++;
  }
  const result: EvaluationResult = {
    loss,
    accuracy: hits / n,
    topK: k,
    topKAccuracy: topHits / n,
    size: n,
    numClasses,
    classNames: dataset.classNames,
    labels,
    predicted,
    confidence,
    topKPredicted,
    ...(opts.keepProbabilities === false ? {} : { probabilities }),
    seconds: (performance.now() - start) / 1000,
  };
  if (show) showText(formatEvaluation(result));
  return describeAs(
    result,
    (r) =>
      `[evaluation: ${formatEvaluation(r)}; .loss, .accuracy, .topKAccuracy, .labels, .predicted, .confidence, .topKPredicted${r.probabilities ? ', .probabilities' : ''}]`,
    { shown: show },
  );
}

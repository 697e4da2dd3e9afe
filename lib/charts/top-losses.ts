// plotTopLosses(): fastai's "where is my model most wrong?" — the k images with the highest loss,
// each titled prediction / actual / loss / probability of the actual class. Confidently wrong
// images come first; they are often mislabelled, ambiguous or out of the ordinary.
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { predictDataset } from '../evaluate/evaluate';
import { argMax } from '../evaluate/metrics';
import { isFeatureDataset, type FeatureDataset } from '../train/cache';
import { planGraph, runPlan } from '../train/graph';
import { composeGrid, showGrid, RIGHT_COLOUR, WRONG_COLOUR } from './grid';
import { describeAs, kb } from '../display';
import { forEachBatch } from '../io/batches';
import { interruptible } from '../io/interrupt';

export interface PlotTopLossesOptions {
  /** How many images (default 9). */
  k?: number;
  /** Tiles per row (default 3). */
  cols?: number;
  tileSize?: number;
  fontSize?: number;
  classNames?: string[];
  /** Row-major [images × classes] outputs of the model for this dataset (evaluateWithPredictions(...).probabilities): skips running the model. */
  probabilities?: Float32Array;
  show?: boolean;
}

export interface TopLoss {
  /** Index into the dataset's files. */
  index: number;
  file: string;
  actual: number;
  predicted: number;
  /** Cross-entropy of this image: -ln p(actual). */
  loss: number;
  /** Probability the model gives the actual class. */
  probability: number;
}

export interface PlotTopLossesResult {
  png: Buffer;
  top: TopLoss[];
}

/** Model outputs for every image of a cached-feature dataset, by file index (only the layers after the boundary run). */
async function predictFeatures(
  model: tf.LayersModel,
  features: FeatureDataset,
): Promise<{ probabilities: Float32Array; numClasses: number }> {
  features.assertMatches(model);
  const plan = planGraph(model, { from: features.boundary });
  const numClasses = features.classNames.length;
  const probabilities = new Float32Array(features.size * numClasses);
  await forEachBatch(features.batches({ epoch: 0 }), async (b) => {
    const out = tf.tidy(() => runPlan(plan, [b.xs], false)[0]);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    b.indices.forEach((idx, r) =>
      probabilities.set(data.subarray(r * numClasses, (r + 1) * numClasses), idx * numClasses),
    );
  });
  return { probabilities, numClasses };
}

/** Per-image losses, highest first. */
export function topLosses(
  probabilities: Float32Array,
  labels: number[],
  numClasses: number,
  k: number,
): Omit<TopLoss, 'file'>[] {
  const rows = labels.map((actual, index) => {
    const row = probabilities.subarray(index * numClasses, (index + 1) * numClasses);
    let sum = 0;
    for (const p of row) sum += p;
    const probability = row[actual] / sum;
    // Keras' clipping, so a probability of exactly 0 gives a large finite loss.
    const loss = -Math.log(Math.min(Math.max(probability, 1e-7), 1 - 1e-7));
    return { index, actual, predicted: argMax(row), loss, probability };
  });
  return rows.sort((a, b) => b.loss - a.loss || a.index - b.index).slice(0, k);
}

/**
 * fastai's `interp.plot_top_losses(k)`: the k images of `dataset` (images, or cached features of
 * them) on which the model's loss is highest, titled "prediction / actual / loss / probability of
 * the actual class", red when wrong and green when right.
 */
export async function plotTopLosses(
  model: tf.LayersModel | null,
  dataset: ImageDataset | FeatureDataset,
  opts: PlotTopLossesOptions = {},
): Promise<PlotTopLossesResult> {
  const k = opts.k ?? 9;
  if (!(Number.isInteger(k) && k >= 1))
    throw new Error(`plotTopLosses: k must be a positive integer (got ${opts.k}).`);
  const images: ImageDataset = isFeatureDataset(dataset) ? dataset.dataset : dataset;
  if (!images || images.size === 0)
    throw new Error('plotTopLosses: the dataset has no images; check its folder.');
  const numClasses = images.classNames.length;
  let probabilities = opts.probabilities;
  if (probabilities) {
    if (probabilities.length !== images.size * numClasses) {
      throw new Error(
        `plotTopLosses: probabilities has ${probabilities.length} values but the dataset needs ${images.size} × ${numClasses}; pass evaluateWithPredictions(model, sameDataset).probabilities.`,
      );
    }
  } else {
    if (!model)
      throw new Error(
        'plotTopLosses: pass a model, or opts.probabilities from evaluateWithPredictions().',
      );
    const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
    if (units !== numClasses)
      throw new Error(
        `plotTopLosses: the model outputs ${units} classes but the dataset has ${numClasses}; pass the dataset the model was trained for.`,
      );
    probabilities = (
      await interruptible('plotTopLosses', () =>
        isFeatureDataset(dataset)
          ? predictFeatures(model, dataset)
          : predictDataset(model, dataset),
      )
    ).probabilities;
  }
  const names = opts.classNames ?? images.classNames;
  const name = (c: number) => names[c] ?? String(c);
  const top = topLosses(probabilities, images.labels, numClasses, k).map((t) => ({
    ...t,
    file: images.files[t.index],
  }));
  const tiles = top.map((t) => {
    const colour = t.predicted === t.actual ? RIGHT_COLOUR : WRONG_COLOUR;
    return {
      file: t.file,
      exifTranspose: images.exifTranspose,
      title: {
        lines: [
          { text: `P: ${name(t.predicted)}`, colour },
          { text: `A: ${name(t.actual)}`, colour },
          { text: `loss ${t.loss.toFixed(2)} / p ${t.probability.toFixed(2)}`, colour },
        ],
      },
    };
  });
  const png = await composeGrid(tiles, {
    cols: opts.cols ?? 3,
    tileSize: opts.tileSize ?? 128,
    fontSize: opts.fontSize,
    maxLinesPerPart: 1,
  });
  const wrong = top.filter((t) => t.predicted !== t.actual).length;
  if (opts.show !== false) {
    await showGrid(
      png,
      `Top ${top.length} losses (${wrong} misclassified): prediction / actual / loss / probability of the actual class`,
    );
  }
  return describeAs(
    { png, top },
    (r) =>
      `[top losses: ${r.top.length} images, highest loss ${r.top[0]?.loss.toFixed(3)}; .png (${kb(r.png)}), .top]`,
    { shown: opts.show !== false },
  );
}

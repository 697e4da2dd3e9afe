// What training and evaluation read from (images, or features cached at a layer of the model) and
// the checks made before the first batch: the source matches the model's classes and input shape,
// with errors that name the fix.
import type * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { checkBatchShape } from '../models/input-shape';
import { planGraph, type GraphPlan } from './graph';
import { isFeatureDataset, type FeatureDataset } from './cache';

/** What trainPhase and evaluateMetrics read from: images, or features cached at a layer of the model. */
export type TrainSource = ImageDataset | FeatureDataset;

/** How to run a model on a source: the graph plan and the variables to train. */
export interface Runner {
  plan: GraphPlan;
  source: TrainSource;
}

function sourceName(s: TrainSource): string {
  if (isFeatureDataset(s)) return `cached features at "${s.boundary}"`;
  return s.files.length
    ? `dataset of ${s.size} images from ${s.files[0].replace(/[\\/][^\\/]*$/, '')}`
    : `dataset of ${s.size} images`;
}

export function runnerFor(model: tf.LayersModel, source: TrainSource, role: string): Runner {
  if (isFeatureDataset(source)) {
    source.assertMatches(model);
    checkClasses(model, source);
    return { plan: planGraph(model, { from: source.boundary }), source };
  }
  if (!source || typeof (source as ImageDataset).batches !== 'function') {
    throw new Error(
      `trainPhase: ${role} must be an ImageDataset (lib/data) or cached features (cachedFeatures(...)); got ${typeof source}.`,
    );
  }
  checkClasses(model, source);
  return { plan: planGraph(model), source };
}

/** The dataset and the model must agree on the number of classes (else one-hot rows would silently be zero). */
function checkClasses(model: tf.LayersModel, source: TrainSource): void {
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  const classes = source.classNames.length;
  if (units !== null && classes > 0 && units !== classes) {
    throw new Error(
      `Model "${model.name}" outputs ${units} classes but the ${sourceName(source)} has ${classes} ` +
        `(${source.classNames.slice(0, 4).join(', ')}${classes > 4 ? ', …' : ''}). Build the head with ${classes} classes, e.g. HEADS.vgg16Gtsrb({ classes: ${classes} }).`,
    );
  }
}

export function checkInputShape(plan: GraphPlan, xs: tf.Tensor, source: TrainSource): void {
  const want = plan.feeds[0].shape.slice(1);
  // Images: one message that names the loaders' size options (lib/models/input-shape).
  if (!isFeatureDataset(source)) return checkBatchShape(want, xs, '', plan.model.name);
  const got = xs.shape.slice(1);
  if (want.some((d, i) => d !== null && d !== got[i]) || want.length !== got.length) {
    throw new Error(
      `The model "${plan.model.name}" expects inputs of shape [${want.map((d) => d ?? 'any')}] but the ${sourceName(source)} ` +
        `gives [${got}]: the features were cached from another model. Call cachedFeatures(model, dataset) for this one.`,
    );
  }
}

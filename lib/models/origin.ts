// Where a base's weights came from, remembered per layer so that any model built on the base
// (a new head, a functional wrapper) can still say so: a model asked for random weights must
// never pass for a pretrained one in a display.
import * as tf from '@tensorflow/tfjs';

export interface WeightsOrigin {
  /** Keras application name, e.g. 'vgg16'. */
  base: string;
  /** 'imagenet', 'pretext' (the offline stand-in), 'random' (weights: null) or the .h5 path given. */
  weights: string;
}

const ORIGIN = new WeakMap<tf.layers.Layer, WeightsOrigin>();

export function tagWeightsOrigin(model: tf.LayersModel, origin: WeightsOrigin): void {
  for (const l of model.layers) ORIGIN.set(l, origin);
}

/** Distinct origins of the application bases inside `model` (empty for models built otherwise). */
export function weightsOrigins(model: tf.LayersModel): WeightsOrigin[] {
  const seen = new Map<string, WeightsOrigin>();
  for (const l of model.layers) {
    const o = ORIGIN.get(l);
    if (o) seen.set(`${o.base}|${o.weights}`, o);
  }
  return [...seen.values()];
}

/** A line for displays, e.g. "vgg16 base: RANDOM weights (weights: null), not ImageNet"; null when all pretrained. */
export function randomWeightsNotice(model: tf.LayersModel): string | null {
  const random = weightsOrigins(model).filter((o) => o.weights === 'random');
  if (random.length === 0) return null;
  return `${random.map((o) => o.base).join(', ')} base: RANDOM weights (weights: null), not ImageNet — results are not those of a pretrained model.`;
}

// Small helpers for the training tests.
import type * as tf from '@tensorflow/tfjs';

/** Keras base.trainable = False, layer by layer (independent of lib/models). */
export function freezeAll(model: tf.LayersModel): void {
  for (const l of model.layers) l.trainable = false;
}

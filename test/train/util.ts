// Small helpers for the training tests.
import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs';
import type { History } from '../../lib/train/types';

/** Keras base.trainable = False, layer by layer (independent of lib/models). */
export function freezeAll(model: tf.LayersModel): void {
  for (const l of model.layers) l.trainable = false;
}

/**
 * A trained History's phase marks without their wall times (which vary run to run), after checking
 * that trainPhase measured one for every phase.
 */
export function phaseMarks(h: History): { name: string; startEpoch: number }[] {
  return h.phases.map(({ name, startEpoch, seconds }) => {
    assert.ok(seconds !== undefined && seconds > 0, `phase "${name}" has no measured time`);
    return { name, startEpoch };
  });
}

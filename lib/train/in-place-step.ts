// What the in-place optimizer steps (lib/train/adam.ts, lib/train/sgd.ts) share: whether a variable's
// array may be written in place, and the addon's one-call loop for the step when onednn runs.
import * as tf from '@tensorflow/tfjs';
import { loadOnednnAddon, type OnednnAddon } from '../backend/onednn-addon';

/** The oneDNN addon, when the onednn backend runs and the addon has the loop `fn`. */
export function nativeStep(fn: 'adamSteps' | 'sgdSteps'): OnednnAddon | null {
  if (tf.getBackend() !== 'onednn') return null;
  const loaded = loadOnednnAddon();
  // An addon built before the loop existed (native/build not rebuilt): the JavaScript loop.
  return 'addon' in loaded && typeof loaded.addon[fn] === 'function' ? loaded.addon : null;
}

/** True when no other tensor shares this variable's data (tfjs' clone shares it). */
export function soleOwner(t: tf.Tensor): boolean {
  const backend = tf.engine().backend as tf.KernelBackend & { refCount?(id: object): number };
  return typeof backend.refCount === 'function' && backend.refCount(t.dataId) === 1;
}

/** Backends whose float32 tensors are plain JS arrays (dataSync returns them without copying). */
export const ARRAY_BACKENDS = new Set(['cpu', 'onednn']);

/** An optimizer's gradients as a list of { name, tensor }, whichever of tfjs' two forms they come in. */
export function namedGradients(
  variableGradients: Parameters<tf.Optimizer['applyGradients']>[0],
): { name: string; tensor: tf.Tensor | null }[] {
  return Array.isArray(variableGradients)
    ? variableGradients
    : Object.keys(variableGradients).map((name) => ({
        name,
        tensor: variableGradients[name] as tf.Tensor | null,
      }));
}

// tfjs treats a tensor's data as immutable once written, and caches here rely on that: oneDNN's
// reordered weights are kept per weight array (lib/backend/onednn-addon.ts), a weight's fingerprint
// per tensor data (lib/models/value-hash.ts). The one-pass Adam step writes new weights into the
// variable's own array instead of allocating a new one, so it must tell every such cache, or a conv
// keeps computing with the weights of an earlier step (the "best" model evaluating to other numbers
// than the epoch it was saved at). Every in-place writer calls wroteInPlace; every cache keyed by a
// tensor's data or array registers here.
import type * as tf from '@tensorflow/tfjs';

/** Called after `values` (the backing array of `tensor`) was overwritten in place. */
export type InPlaceListener = (tensor: tf.Tensor, values: ArrayLike<number>) => void;

const listeners = new Set<InPlaceListener>();

/** Register a cache that must forget what it derived from a tensor's data when that data changes. */
export function onInPlaceWrite(listener: InPlaceListener): void {
  listeners.add(listener);
}

/** Tell every registered cache that `tensor`'s data (`values`, its backing array) was written in place. */
export function wroteInPlace(tensor: tf.Tensor, values: ArrayLike<number>): void {
  for (const listener of listeners) listener(tensor, values);
}

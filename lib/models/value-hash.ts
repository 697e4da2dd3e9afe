// A weight's value fingerprint, remembered per tensor data: assigning a variable gives it new data,
// so an unchanged frozen base is hashed once per process, not at every checkpoint or cache lookup.
// Code that changes a tensor's data in place (the fused Adam step) calls lib/backend/in-place's
// wroteInPlace, which drops the remembered hash.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { onInPlaceWrite } from '../backend/in-place';

const valueHashes = new WeakMap<object, string>();
onInPlaceWrite((t) => valueHashes.delete(t.dataId as object));

/** sha256 of a tensor's dtype, shape and values (cached while its data stays the same). */
export function valueHash(t: tf.Tensor): string {
  const key = t.dataId as object;
  let h = valueHashes.get(key);
  if (!h) {
    const v = t.dataSync() as Float32Array;
    h = createHash('sha256')
      .update(`${t.dtype}[${t.shape}]`)
      .update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      .digest('hex');
    valueHashes.set(key, h);
  }
  return h;
}

// Fingerprints that decide when cached features are still valid.
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { valueHash } from '../models/value-hash';

type Layer = tf.layers.Layer;

/** Config without the parts that do not change what a layer computes (its name, its trainable flag). */
function layerSignature(layer: Layer): string {
  const config = { ...layer.getConfig() } as Record<string, unknown>;
  delete config.name;
  delete config.trainable;
  return `${layer.getClassName()}:${JSON.stringify(config)}`;
}

/**
 * A hash of what a stack of layers computes: each layer's class and config, and the values of all
 * its weights (trainable and not, e.g. BatchNormalization's moving statistics). Two models built
 * separately with the same weights get the same fingerprint; any changed weight changes it.
 */
export function layersFingerprint(layers: Layer[], extra = ''): string {
  const h = createHash('sha256');
  h.update(extra);
  for (const layer of layers) {
    h.update(layerSignature(layer));
    for (const w of layer.weights) h.update(valueHash(w.read()));
  }
  return h.digest('hex');
}

/** A key for one image file: path, size and modification time (cheap; changes when the file does). */
export function fileKey(file: string): string {
  let stamp = 'nofile';
  try {
    const st = fs.statSync(file);
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch {
    // Virtual files (synthetic datasets): the dataset's cacheKey covers their content.
  }
  return createHash('sha1').update(`${file}\u0000${stamp}`).digest('hex').slice(0, 20);
}

export function shortHash(s: string, n = 16): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

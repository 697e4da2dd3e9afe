// `weights: 'auto'` — the best pretrained weights this machine can have, said plainly:
//   1. Keras' ImageNet file, when it is cached (~/.keras/models) or can be downloaded now;
//   2. offline (NB_OFFLINE=1, or Keras' host unreachable: no waiting), the pretext stand-in —
//      the same base really pretrained on generated signs (lib/models/pretext.ts), built once.
// 'imagenet' still means ImageNet or a clear error, and null means random on purpose.
import { PRETEXT_SIGN_CLASSES } from '../data/pretext-signs';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { getKerasWeights, kerasWeightsLocation } from './weights';
import { anySideReason, getPretextWeights, PRETEXT_LABEL } from './pretext';
import { weightsOrigins, type WeightsOrigin } from './origin';
import type * as tf from '@tensorflow/tfjs';
import type { Architecture } from './architecture';

export type WeightsChoice = 'imagenet' | 'auto' | null;

export interface AutoWeights {
  /** The .h5 file to load (Keras layout). */
  file: string;
  origin: 'imagenet' | 'pretext';
  /** One sentence: where the weights came from and why (shown in the notebook). */
  reason: string;
}

/** NB_OFFLINE=1 (or true/yes): never try the network. */
export function offline(): boolean {
  return /^(1|true|yes)$/i.test(process.env.NB_OFFLINE ?? '');
}

/** Does `url`'s host answer within `timeoutMs`? A DNS failure or refused connection answers at once. */
export function reachable(url: string, timeoutMs = 4000): Promise<boolean> {
  return new Promise((resolve) => {
    const get = url.startsWith('http:') ? http.request : https.request;
    const req = get(url, { method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Resolve `weights: 'auto'` for `arch` at a square input of `inputSize` pixels. */
export async function resolveAutoWeights(
  arch: Architecture,
  inputSize: number,
  opts: { quiet?: boolean } = {},
): Promise<AutoWeights> {
  const app = arch.name;
  const loc = kerasWeightsLocation(arch, false);
  if (fs.existsSync(loc.path)) {
    return {
      file: await getKerasWeights(arch, false, opts),
      origin: 'imagenet',
      reason: `Keras' ImageNet weights from ${loc.path}.`,
    };
  }
  let why: string;
  if (offline()) why = 'NB_OFFLINE is set';
  else if (!(await reachable(loc.url))) why = `${new URL(loc.url).host} cannot be reached`;
  else {
    try {
      const file = await getKerasWeights(arch, false, opts);
      return {
        file,
        origin: 'imagenet',
        reason: `Keras' ImageNet weights, downloaded to ${file}.`,
      };
    } catch (e) {
      why = `the download failed (${(e as Error).message.split('\n')[0]})`;
    }
  }
  const pretext = await getPretextWeights(arch, inputSize, { progress: !opts.quiet });
  const side = pretext.info.inputSize;
  const sides =
    side === inputSize
      ? `${side}×${side}`
      : `pretrained at ${side}×${side} and loaded at ${inputSize}×${inputSize}: ${anySideReason(arch)}`;
  return {
    file: pretext.path,
    origin: 'pretext',
    reason:
      `No ImageNet weights (${why}), so the base uses the offline stand-in: ${app} **${PRETEXT_LABEL}** ` +
      `(${sides}; shapes/colours/symbols of generated signs, half of them drawn as bad photographs, none of them the notebooks' classes; ` +
      `pretext accuracy ${(pretext.info.finalAccuracy * 100).toFixed(1)}% on ${PRETEXT_SIGN_CLASSES} signs, chance ${(100 / PRETEXT_SIGN_CLASSES).toFixed(2)}%; ${pretext.path}). ` +
      `For ImageNet, run \`npm run download-weights -- ${app}\` or copy ${loc.file} into ${loc.cacheDir}/.`,
  };
}

/** What charts and tables call a model's weights: "ImageNet", "pretrained on generated data, not ImageNet", … */
export function weightsLabel(model: tf.LayersModel): string {
  const origins = weightsOrigins(model);
  if (origins.length === 0) return 'weights of this run';
  return [...new Set(origins.map(originLabel))].join(' + ');
}

export function originLabel(o: WeightsOrigin): string {
  if (o.weights === 'imagenet') return 'ImageNet';
  if (o.weights === 'pretext') return PRETEXT_LABEL;
  if (o.weights === 'random') return 'random initialisation';
  return `weights from ${o.weights}`;
}

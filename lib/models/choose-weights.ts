// Which weights a notebook profile gets. 'imagenet' means ImageNet or a clear error (never random);
// 'auto' means ImageNet when Keras' file is already cached, otherwise an explicit, announced random
// initialisation — the offline quick profile uses it so it runs on a fresh machine.
import * as fs from 'node:fs';
import { kerasWeightsLocation, type KerasApplicationName } from './weights';
import { showMarkdown } from '../display';

export type WeightsChoice = 'imagenet' | 'auto' | null;

export interface ResolvedWeights {
  /** What to pass as `weights` to vgg16 / resnet50 / inceptionV3. */
  weights: 'imagenet' | null;
  /** "ImageNet" or "random initialisation": put it in chart titles and result tables. */
  label: string;
  /** Why, in one sentence (shown in the notebook). */
  reason: string;
}

export function resolveWeights(app: KerasApplicationName, choice: WeightsChoice, opts: { show?: boolean } = {}): ResolvedWeights {
  const loc = kerasWeightsLocation(app, false);
  const cached = fs.existsSync(loc.path);
  let r: ResolvedWeights;
  if (choice === 'imagenet') {
    r = { weights: 'imagenet', label: 'ImageNet', reason: cached ? `ImageNet weights from ${loc.path}.` : `ImageNet weights will be downloaded to ${loc.path}.` };
  } else if (choice === 'auto' && cached) {
    r = { weights: 'imagenet', label: 'ImageNet', reason: `ImageNet weights found in Keras' cache (${loc.path}).` };
  } else if (choice === 'auto') {
    r = {
      weights: null,
      label: 'random initialisation',
      reason:
        `No ImageNet weights cached at ${loc.path}, so this run starts from a **random initialisation**: ` +
        `the frozen base extracts random features, and results say nothing about transfer from ImageNet. ` +
        `Run \`npm run download-weights -- ${app}\` (or copy ${loc.file} there) and re-run for pretrained weights.`,
    };
  } else {
    r = { weights: null, label: 'random initialisation', reason: 'This profile asks for random weights (weights: null).' };
  }
  if (opts.show !== false) showMarkdown(`**Weights (${app}):** ${r.label}. ${r.reason}`);
  return r;
}

// What each walkthrough teaches, as checks on a quick-profile run's headline metrics (issue 11): with
// pretrained weights (ImageNet, or the pretext stand-in offline) the lesson must show in the numbers.
// Each check returns the sentences that do not hold, so an assertion prints them.

import { differenceInterval, wilsonInterval } from '../../lib/evaluate/readings';

export type Metrics = Record<string, unknown>;

// The quick profile's classes (the notebooks' config cells: syntheticClasses), hence chance level.
const CHANCE = { '01': 1 / 12, '02': 1 / 12, '03': 1 / 43, '04': 1 / 5 } as const;

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const num = (m: Metrics, key: string): number => {
  const v = m[key];
  if (typeof v !== 'number')
    throw new Error(`headline metric ${key} is missing (got ${JSON.stringify(m)})`);
  return v;
};

export const LESSONS: Record<keyof typeof CHANCE, (m: Metrics) => string[]> = {
  // ResNet50 transfer learning: a head on frozen pretrained features learns the classes.
  '01': (m) => {
    const val = num(m, 'val_accuracy');
    return val >= 3 * CHANCE['01']
      ? []
      : [
          `transfer learning reached ${pct(val)} on validation, not clearly above chance (${pct(CHANCE['01'])})`,
        ];
  },
  // InceptionV3: transfer learning beats chance, and fine-tuning the top blocks loses no accuracy
  // beyond noise.
  '02': (m) => {
    const tl = num(m, 'tl_val_accuracy');
    const ft = num(m, 'ft_val_accuracy');
    const problems: string[] = [];
    if (tl < 3 * CHANCE['02'])
      problems.push(
        `transfer learning reached ${pct(tl)} on validation, not clearly above chance (${pct(CHANCE['02'])})`,
      );
    // "Adds a little": on a few hundred images a one-image difference is noise (the walkthrough's own
    // 56.4 → 57.3% on ~1,600 images is too), so the check is that fine-tuning loses nothing the
    // images can resolve (Newcombe's 95% interval of the difference reaches 0 or above).
    const n = num(m, 'val_images');
    const [, high] = differenceInterval(Math.round(tl * n), n, Math.round(ft * n), n);
    if (high < 0)
      problems.push(
        `fine-tuning lost accuracy beyond noise: ${pct(tl)} → ${pct(ft)} on ${n} validation images`,
      );
    return problems;
  },
  // VGG16 on 40 images per class: fine-tuning a pretrained base beats training from scratch by far.
  '03': (m) => {
    const ft = num(m, 'val_accuracy');
    const scratch = num(m, 'scratch_val_accuracy');
    const problems: string[] = [];
    if (ft < 5 * CHANCE['03'])
      problems.push(
        `fine-tuning reached ${pct(ft)} on validation, not clearly above chance (${pct(CHANCE['03'])})`,
      );
    if (ft - scratch < 0.25)
      problems.push(
        `fine-tuning (${pct(ft)}) does not beat training from scratch (${pct(scratch)}) by a wide margin (25 points)`,
      );
    return problems;
  },
  // Your own images (the generated folder, 5 classes, about 45 validation images): a pretrained
  // base, a head and the last block fine-tuned learn the classes despite the folder's corrupt, tiny
  // and duplicated files — above chance beyond the 95% interval of this many images (86.7% = 39/45
  // with the ResNet50 stand-in at 64 px on machine C on 2026-12-07, interval 73.8–93.7%; 40.0% with
  // the stand-in before its residual branches started at zero, interval 27.0–54.5%; chance 20%).
  '04': (m) => {
    const val = num(m, 'val_accuracy');
    const n = num(m, 'val_images');
    const [low] = wilsonInterval(Math.round(val * n), n);
    return low > CHANCE['04']
      ? []
      : [
          `the fine-tuned model reached ${pct(val)} on ${n} validation images (95% interval from ${pct(low)}), not above chance (${pct(CHANCE['04'])})`,
        ];
  },
};

/** The lesson check for a notebook file name (`01-…ipynb`), or undefined for a notebook without one. */
export function lessonFor(notebook: string): ((m: Metrics) => string[]) | undefined {
  return LESSONS[notebook.slice(0, 2) as keyof typeof CHANCE];
}

/** Headline metrics that must agree between two runs: everything but timings and the backend's name. */
export function reproducible(m: Metrics): Metrics {
  return Object.fromEntries(
    Object.entries(m).filter(([k]) => k !== 'backend' && !k.endsWith('_seconds')),
  );
}

/**
 * The model a notebook evaluates is the epoch its log names (issue 26): for each `<run>held_val_loss`
 * (the logged val_loss of the epoch EarlyStopping restored, or the last) the model's evaluated
 * `<run>val_loss` must be the same number, up to float rounding between the cached-feature and the
 * image path. Returns the pairs that disagree, and an empty list when a notebook reports no pair.
 */
export function heldModelProblems(m: Metrics): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(m).filter((k) => k.endsWith('held_val_loss'))) {
    const run = key.slice(0, -'held_val_loss'.length);
    const logged = num(m, key);
    const evaluated = num(m, `${run}val_loss`);
    if (!(Math.abs(logged - evaluated) <= 1e-3 * Math.max(1, Math.abs(logged))))
      problems.push(
        `${run || 'the '}model's logged val_loss ${logged.toFixed(4)} (the epoch it holds) differs from its evaluated ${evaluated.toFixed(4)}`,
      );
  }
  return problems;
}

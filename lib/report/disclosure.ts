// What this run is, said first: the profile, the weights the base will start from, the data, and
// every setting that differs from the walkthrough — computed from the notebook's config, the
// weights cache and the data folders, before anything trains. A reader of a quick run on generated
// data learns that in the first output, not on page 5; and the results section reuses the same list
// to say why this run's numbers are not the walkthrough's (readDifferences).
import { PRETEXT_ATTRIBUTES, PRETEXT_SIGN_CLASSES } from '../data/pretext-signs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  dataDirFromEnv,
  formatSetting,
  settingsTableOf,
  type ConfigValue,
  type Profile,
} from '../config';
import { describeAs, showBundle, showMarkdown } from '../display';
import { isImageFile } from '../data/decode';
import { splitFolderNames } from '../data/sources';
import { flipsOffOnGenerated } from '../data/label-safe';
import type { ImageDataGeneratorOptions } from '../data/augment';
import { architecture } from '../models/architectures';
import { offline } from '../models/choose-weights';
import { kerasWeightsLocation } from '../models/weights';
import { anySideReason, readPretextInfo, standInSide } from '../models/pretext';
import { reading, wilsonInterval } from '../evaluate/readings';
import { displayPath, markdownCode } from '../io/text';
import type { Walkthrough } from './walkthroughs';

export interface WeightsPlan {
  kind: 'imagenet' | 'stand-in' | 'random';
  /** One sentence for the reader. */
  text: string;
  /** The stand-in's pretext task: classes, chance, and how well it was learned (once built). */
  pretext?: { classes: number; chance: number; steps: number; accuracy?: number };
}

export interface DataPlan {
  source: 'real' | 'generated';
  classes: number;
  perClass: { train: number; validation: number; test: number };
  text: string;
}

export interface Difference {
  setting: string;
  walkthrough: string;
  run: string;
  /** True for what bears on the lesson (weights, data, size, epochs, rates); false for method details. */
  major: boolean;
}

export interface RunPlan {
  walkthrough: Walkthrough;
  profile: Profile;
  weights: WeightsPlan;
  data: DataPlan;
  differences: Difference[];
  /** The Markdown shown. */
  text: string;
}

export interface DescribeRunOptions {
  /** The notebook's settings (what profileConfig returned). */
  config: Record<string, unknown> & { profile: Profile };
  /** The data the run falls back to without the walkthrough's (classes, images per class). */
  generated: { classes: number; perClass: readonly [number, number, number] };
  show?: boolean;
}

const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)}%`;

/**
 * The stand-in's summed pretext loss beside a uniform guess's (ln of each attribute's count):
 * "all three right" stays near 0% after a few hundred steps, and the loss says how far the base got.
 */
function pretextLossNote(loss: number | undefined): string {
  if (loss === undefined || !Number.isFinite(loss)) return '';
  const guess = PRETEXT_ATTRIBUTES.reduce((sum, a) => sum + Math.log(a.count), 0);
  return loss >= guess
    ? ` (its summed pretext loss, ${loss.toFixed(2)}, is not below the ${guess.toFixed(2)} of a uniform guess)`
    : ` (summed pretext loss ${loss.toFixed(2)} against ${guess.toFixed(2)} for a uniform guess)`;
}

/** The side of the config's square `imageSize` (0 when it has none). */
const imageSide = (cfg: Record<string, unknown>) =>
  Array.isArray(cfg.imageSize) ? Number(cfg.imageSize[0]) : 0;

/**
 * Show a disclosure, then the settings of both profiles when profileConfig({ …, show: false })
 * left them for here; returns whether it showed.
 */
function showDisclosure(text: string, cfg: object, show: boolean | undefined): boolean {
  if (show === false) return false;
  showMarkdown(text);
  const table = settingsTableOf(cfg);
  if (table) showBundle(table);
  return true;
}

/** Which weights `weights: cfg.weights` will give this base at this input size, without loading them. */
export function planWeights(archName: string, choice: unknown, inputSize: number): WeightsPlan {
  const arch = architecture(archName);
  if (choice === null) return { kind: 'random', text: `${arch.displayName} from random weights.` };
  const loc = kerasWeightsLocation(arch, false);
  const cached = fs.existsSync(loc.path);
  if (choice === 'imagenet' || cached)
    return {
      kind: 'imagenet',
      text: cached
        ? `Keras' ImageNet weights for ${arch.displayName} (${displayPath(loc.path)}), as in the walkthrough.`
        : `Keras' ImageNet weights for ${arch.displayName}, downloaded on first use (the walkthrough's); without a network this stops with an error that says where to put the file.`,
    };
  const spec = arch.standIn.spec;
  const info = readPretextInfo(arch, inputSize);
  const side = standInSide(arch, inputSize);
  const loaded =
    side === inputSize
      ? ''
      : `; it is loaded at ${inputSize}×${inputSize} (${anySideReason(arch)})`;
  const chance = 1 / PRETEXT_SIGN_CLASSES;
  const why = offline()
    ? 'NB_OFFLINE is set'
    : `${displayPath(loc.path)} is not there (downloaded now if ${new URL(loc.url).host} can be reached)`;
  const learned = info
    ? `it reached ${pct(info.finalAccuracy)} on fresh images after ${spec.steps} steps` +
      pretextLossNote(info.finalLoss)
    : `it is pretrained the first time it is needed (${spec.steps} steps), and its pretext accuracy is shown then`;
  return {
    kind: 'stand-in',
    pretext: {
      classes: PRETEXT_SIGN_CLASSES,
      chance,
      steps: spec.steps,
      accuracy: info?.finalAccuracy,
    },
    text:
      `**Not ImageNet:** the offline stand-in, ${arch.displayName} pretrained on generated signs (${why}). Its pretext task was ` +
      `to name the shape, colours and symbol of generated signs, half of them drawn as bad photographs (dark, hazy, blurred, low-resolution, at an angle, in front of made-up scenes) at ${side}×${side} px: ${PRETEXT_SIGN_CLASSES} signs, none of them this notebook's classes or GTSRB's (chance ${pct(chance, 2)}); ` +
      `${learned}${loaded}. Its filters have never seen a real photograph or an ImageNet class, so accuracies here are not the walkthrough's. ` +
      `\`npm run download-weights -- ${arch.name}\` fetches the ImageNet file.`,
  };
}

/**
 * Image files under `dir` (class folders, or flat), hidden names skipped as the loaders skip them
 * (macOS' `._*` copies carry an image extension but are not images).
 */
function countImages(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) n += countImages(path.join(dir, e.name));
    else if (isImageFile(e.name)) n++;
  }
  return n;
}

/** Which images the run will use: the real dataset when its variable is set, else the generated stand-in. */
export function planData(w: Walkthrough, generated: DescribeRunOptions['generated']): DataPlan {
  const dir = dataDirFromEnv(w.dataEnv);
  const wanted = `the walkthrough had ${w.classes} classes with about ${w.perClass.train} / ${w.perClass.validation} / ${w.perClass.test} real images per class`;
  if (dir) {
    const splits = splitFolderNames(w.dataEnv).map((s) => path.join(dir, s));
    const [tr, va, te] = splits.map(countImages);
    const classDirs = fs.existsSync(splits[0])
      ? fs
          .readdirSync(splits[0], { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith('.')).length
      : 0;
    const classes = classDirs || w.classes;
    const per = (n: number) => Math.round(n / classes);
    return {
      source: 'real',
      classes,
      perClass: { train: per(tr), validation: per(va), test: per(te) },
      text:
        `Real ${w.dataset} images from ${markdownCode(displayPath(dir))} (${w.dataEnv}): ${classes} classes, ` +
        `${tr} / ${va} / ${te} images for training / validation / test (about ${per(tr)} / ${per(va)} / ${per(te)} per class; ${wanted}).`,
    };
  }
  const [train, validation, test] = generated.perClass;
  return {
    source: 'generated',
    classes: generated.classes,
    perClass: { train, validation, test },
    text:
      `**Generated images, not ${w.dataset}** (${w.dataEnv} is not set): ${generated.classes} classes of synthetic signs ` +
      `(coloured shapes with a glyph, on varied backgrounds), ${train} / ${validation} / ${test} per class for training / validation / test; ` +
      `${wanted}. Set ${w.dataEnv} for the real dataset (README, "Data").`,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Settings that decide how good a model can get (the rest are method details: shown, not counted). */
const MAJOR =
  /imageSize|epochs|Epochs|learningRate|LearningRate|freezeUpTo|fineTuneLayers|batchSize/;

/** Every setting that differs from the walkthrough, plus weights and data, from the plan. */
export function settingDifferences(
  w: Walkthrough,
  config: Record<string, unknown>,
  weights: WeightsPlan,
  data: DataPlan,
): Difference[] {
  const out: Difference[] = [];
  if (weights.kind !== 'imagenet')
    out.push({
      setting: 'weights',
      walkthrough: 'ImageNet',
      run:
        weights.kind === 'random'
          ? 'random'
          : `stand-in pretrained on generated signs (${weights.pretext!.classes} classes)`,
      major: true,
    });
  if (data.source !== 'real')
    out.push({
      setting: 'data',
      walkthrough: `${w.dataset}, ${w.classes} classes`,
      run: `generated, ${data.classes} classes`,
      major: true,
    });
  // labelSafeAugmentation turns off a flip that changes a generated class (a mirrored "2" is a "5").
  if (data.source !== 'real' && config.augmentation)
    for (const { flip, changed } of flipsOffOnGenerated(
      config.augmentation as ImageDataGeneratorOptions,
      data.classes,
    ))
      out.push({
        setting: `augmentation: ${flip} flip`,
        walkthrough: 'on',
        run: `off (mirrored, ${changed} of the ${data.classes} generated classes change)`,
        major: false,
      });
  const pw = w.perClass;
  const pr = data.perClass;
  if (pr.train !== pw.train || pr.validation !== pw.validation)
    out.push({
      setting: 'images per class (train / validation / test)',
      walkthrough: `${pw.train} / ${pw.validation} / ${pw.test}`,
      run: `${pr.train} / ${pr.validation} / ${pr.test}`,
      major: true,
    });
  for (const [key, theirs] of Object.entries(w.settings)) {
    if (!(key in config)) continue;
    const ours = config[key] as ConfigValue;
    if (same(ours ?? null, theirs)) continue;
    out.push({
      setting: key,
      walkthrough: theirs === null ? 'not used' : formatSetting(theirs),
      run: ours === null || ours === undefined ? 'not used' : formatSetting(ours),
      major: !(w.minor ?? []).includes(key) && MAJOR.test(key),
    });
  }
  return out;
}

function differencesTable(diffs: Difference[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| setting | walkthrough | this run |',
    '|---|---|---|',
    ...diffs.map((d) => `| ${esc(d.setting)} | ${esc(d.walkthrough)} | ${esc(d.run)} |`),
  ].join('\n');
}

/**
 * The notebook's first output: what is run on what, and every difference from the walkthrough;
 * then the settings table, when the config cell called profileConfig with `show: false`.
 * `describeRun(nb.WALKTHROUGHS.vgg16Gtsrb, { config: cfg, generated: { classes: 43, perClass } })`.
 */
export function describeRun(w: Walkthrough, opts: DescribeRunOptions): RunPlan {
  const cfg = opts.config;
  const size = imageSide(cfg);
  const weights = planWeights(w.arch, cfg.weights, size);
  const data = planData(w, opts.generated);
  const differences = settingDifferences(w, cfg, weights, data);
  const major = differences.filter((d) => d.major).length;
  const lines = [
    `**What this run is:** profile \`${cfg.profile}\` of the walkthrough *${w.title}*.`,
    '',
    `- **Weights:** ${weights.text}`,
    `- **Data:** ${data.text}`,
    differences.length
      ? `- **Differences from the walkthrough** (${differences.length}, of which ${major} bear on accuracy), computed from the settings:`
      : '- **No difference from the walkthrough** in the settings, the weights or the data.',
  ];
  const text =
    lines.join('\n') +
    (differences.length
      ? `\n\n${differencesTable(differences)}\n\n` +
        (major
          ? `So this run's numbers are not the walkthrough's, and the results section says which of these differences stand between them.`
          : `None of these changes what the run can reach, so its numbers can be set against the walkthrough's.`)
      : '');
  const plan: RunPlan = { walkthrough: w, profile: cfg.profile, weights, data, differences, text };
  const shown = showDisclosure(text, cfg, opts.show);
  return describeAs(plan, (p) => p.text, { shown });
}

export interface ReadDifferencesOptions {
  /** The published row this run's result is set against ('fine-tuning (test)'). */
  row: string;
  /** This run's accuracy for that row, on `size` images. */
  result: { accuracy: number; size: number };
  show?: boolean;
}

/**
 * This run's result next to the walkthrough's published one, and why they differ: the plan's
 * differences that bear on accuracy. With none, whether the published value lies in this run's
 * 95% interval.
 */
export function readDifferences(plan: RunPlan, opts: ReadDifferencesOptions) {
  const published = plan.walkthrough.published.rows[opts.row]?.accuracy;
  if (published === undefined)
    throw new Error(
      `readDifferences: the walkthrough published no accuracy for "${opts.row}"; its rows are ${Object.keys(plan.walkthrough.published.rows).join(', ')}.`,
    );
  const k = Math.round(opts.result.accuracy * opts.result.size);
  const [low, high] = wilsonInterval(k, opts.result.size);
  const major = plan.differences.filter((d) => d.major);
  const head = `The walkthrough reported ${pct(published)} for ${opts.row}; this run has ${pct(opts.result.accuracy)} on ${opts.result.size} images (95% interval ${pct(low)}–${pct(high)}).`;
  let verdict: string;
  let tail: string;
  if (major.length) {
    verdict = 'different setup';
    const list = major
      .map((d) => `${d.setting}: ${d.run} (walkthrough: ${d.walkthrough})`)
      .join('; ');
    tail = ` The two were measured on different setups, so the published number is not a target for this run: ${list}.`;
  } else {
    const inside = published >= low && published <= high;
    verdict = inside ? 'reproduced' : published > high ? 'below published' : 'above published';
    tail = inside
      ? ' Same setup, and the published value lies inside this run’s interval: reproduced.'
      : ` Same setup, and the published value lies ${published > high ? 'above' : 'below'} this run’s interval.`;
  }
  return reading(verdict, [head + tail], { published, low, high }, opts);
}

export interface DescribeOwnRunOptions {
  /** The notebook's settings (what profileConfig returned): its weights and imageSize. */
  config: Record<string, unknown> & { profile: Profile };
  /** The base, as the architecture registry names it. */
  arch: string;
  show?: boolean;
}

/**
 * Notebook 04's first output: the profile, the weights the base will start from, and whose images
 * it trains on (IMAGES_DIR, or the generated folder) — there is no walkthrough to differ from.
 */
export function describeOwnRun(opts: DescribeOwnRunOptions) {
  const cfg = opts.config;
  const size = imageSide(cfg);
  const weights = planWeights(opts.arch, cfg.weights, size);
  const dir = dataDirFromEnv('IMAGES_DIR');
  const data = dir
    ? `your images, from ${markdownCode(displayPath(dir))} (IMAGES_DIR).`
    : '**generated images, not yours** (IMAGES_DIR is not set): a folder of generated signs with the problems real folders have, described where the images are loaded.';
  const text = [
    `**What this run is:** profile \`${cfg.profile}\`, ${architecture(opts.arch).displayName} at ${size}×${size} px.`,
    '',
    `- **Weights:** ${weights.text}`,
    `- **Data:** ${data}`,
  ].join('\n');
  const shown = showDisclosure(text, cfg, opts.show);
  return describeAs({ weights, text }, (r) => r.text, { shown });
}

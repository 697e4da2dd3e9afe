// The disclosure a notebook opens with, the differences beside the published numbers and the
// conclusion: each computed from the config, the weights cache and the data folders, so each must
// change when they do.
import { PRETEXT_SIGN_CLASSES } from '../../lib/data/pretext-signs';
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeOwnRun, describeRun, readDifferences } from '../../lib/report/disclosure';
import { conclude, lessonOutcome } from '../../lib/report/conclusion';
import { WALKTHROUGHS } from '../../lib/report/walkthroughs';
import { readComparison, readResult } from '../../lib/evaluate/readings';
import { kerasWeightsLocation } from '../../lib/models/weights';
import { architecture } from '../../lib/models/architectures';
import { pretextWeightsLocation, PRETEXT_VERSION } from '../../lib/models/pretext';
import { profileConfig } from '../../lib/config';
import { tmpDir } from '../helpers';

const W = WALKTHROUGHS.vgg16Gtsrb;
const saved: Record<string, string | undefined> = {};
const ENV = ['KERAS_HOME', 'GTSRB_DIR', 'NB_OFFLINE', 'NB_SET', 'IMAGES_DIR'];

beforeEach(() => {
  for (const k of ENV) saved[k] = process.env[k];
  process.env.KERAS_HOME = tmpDir('keras-'); // no ImageNet file, no stand-in yet
  delete process.env.GTSRB_DIR;
  delete process.env.NB_SET;
  process.env.NB_OFFLINE = '1';
});
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const quick = {
  profile: 'quick' as const,
  batchSize: 32,
  dropout: 0.6,
  fineTuneLayers: 8,
  imageSize: [32, 32],
  learningRate: 3e-4,
  fineTuneEpochs: 6,
  scratchEpochs: 6,
  earlyStopping: { patience: 10 },
  reduceLr: null,
  weights: 'auto',
};
const full = {
  ...quick,
  profile: 'full' as const,
  imageSize: [224, 224],
  learningRate: 1e-4,
  fineTuneEpochs: 101,
  scratchEpochs: 101,
  earlyStopping: null,
  weights: 'imagenet',
};
const generated = { classes: 43, perClass: [14, 6, 6] as const };

/** A GTSRB-like folder: `classes` class folders with the given images per class in Train/ and Valid/, a flat Test/. */
function gtsrbFolder(classes: number, train: number, valid: number, test: number): string {
  const dir = tmpDir('gtsrb-');
  for (let c = 0; c < classes; c++)
    for (const [split, n] of [
      ['Train', train],
      ['Valid', valid],
    ] as const) {
      fs.mkdirSync(path.join(dir, split, String(c)), { recursive: true });
      for (let i = 0; i < n; i++)
        fs.writeFileSync(path.join(dir, split, String(c), `${i}.png`), '');
    }
  fs.mkdirSync(path.join(dir, 'Test'));
  for (let i = 0; i < classes * test; i++) fs.writeFileSync(path.join(dir, 'Test', `${i}.png`), '');
  fs.writeFileSync(path.join(dir, 'Test', 'notes.txt'), 'not an image');
  return dir;
}

test('quick, offline, generated: the stand-in, the generated data and every changed setting are named', () => {
  const plan = describeRun(W, { config: quick, generated, show: false });
  assert.equal(plan.weights.kind, 'stand-in');
  assert.equal(plan.weights.pretext?.classes, PRETEXT_SIGN_CLASSES);
  assert.match(plan.weights.text, /Not ImageNet/);
  assert.match(
    plan.weights.text,
    new RegExp(
      `${PRETEXT_SIGN_CLASSES} signs, .*chance ${(100 / PRETEXT_SIGN_CLASSES).toFixed(2)}%`,
    ),
  );
  assert.match(plan.weights.text, /pretrained the first time/);
  // once built, its pretext accuracy is read from the file beside the weights
  const arch = architecture('vgg16');
  const loc = pretextWeightsLocation(arch, 32);
  fs.mkdirSync(path.dirname(loc.path), { recursive: true });
  fs.writeFileSync(loc.path, '');
  const info = { version: PRETEXT_VERSION, app: 'vgg16', inputSize: 32, spec: arch.standIn.spec };
  fs.writeFileSync(
    loc.infoPath,
    JSON.stringify({ ...info, seconds: 1, finalAccuracy: 0.104, finalLoss: 4 }),
  );
  const built = describeRun(W, { config: quick, generated, show: false });
  assert.equal(built.weights.pretext?.accuracy, 0.104);
  assert.match(built.weights.text, /reached 10\.4% on fresh images after 300 steps/);
  // its loss beside guessing: ln 6 + ln 7 + ln 61 for shape, colour scheme and symbol
  const guess = (Math.log(6) + Math.log(7) + Math.log(61)).toFixed(2);
  assert.match(
    built.weights.text,
    new RegExp(`summed pretext loss 4\\.00 against ${guess} for a uniform guess\\)`),
  );
  // a loss not below guessing's is said as such
  fs.writeFileSync(
    loc.infoPath,
    JSON.stringify({ ...info, seconds: 1, finalAccuracy: 0, finalLoss: 8.1 }),
  );
  const idle = describeRun(W, { config: quick, generated, show: false });
  assert.match(
    idle.weights.text,
    /pretext loss, 8\.10, is not below the [\d.]+ of a uniform guess\)/,
  );
  // GTSRB's photos at 48 px take the same 32-px stand-in (VGG16 has no BatchNormalization)
  const at48 = describeRun(W, {
    config: { ...quick, imageSize: [48, 48] },
    generated,
    show: false,
  });
  assert.equal(at48.weights.pretext?.accuracy, 0);
  assert.match(at48.weights.text, /at 32×32 px: /);
  assert.match(at48.weights.text, /it is loaded at 48×48 \(VGG16 has no BatchNormalization/);
  assert.doesNotMatch(idle.weights.text, /loaded at/);
  assert.equal(plan.data.source, 'generated');
  assert.match(plan.data.text, /Generated images, not GTSRB/);
  const settings = plan.differences.map((d) => d.setting);
  for (const s of [
    'weights',
    'data',
    'imageSize',
    'learningRate',
    'fineTuneEpochs',
    'earlyStopping',
  ])
    assert.ok(settings.includes(s), `${s} missing from ${settings.join(', ')}`);
  // shared settings equal to the walkthrough's are not listed
  assert.ok(!settings.includes('dropout') && !settings.includes('batchSize'));
  const es = plan.differences.find((d) => d.setting === 'earlyStopping')!;
  assert.equal(es.walkthrough, 'not used');
  assert.equal(es.run, 'patience 10');
  assert.match(plan.text, /^\*\*What this run is:\*\* profile `quick`/);
  assert.match(plan.text, /\| imageSize \| \[224, 224\] \| \[32, 32\] \|/);
});

test("full with Keras' file cached and the walkthrough's image counts: no difference", () => {
  const loc = kerasWeightsLocation(architecture('vgg16'), false);
  fs.mkdirSync(path.dirname(loc.path), { recursive: true });
  fs.writeFileSync(loc.path, '');
  process.env.GTSRB_DIR = gtsrbFolder(43, 28, 12, 294);
  const plan = describeRun(W, { config: full, generated, show: false });
  assert.equal(plan.weights.kind, 'imagenet');
  assert.equal(plan.data.source, 'real');
  assert.deepEqual(plan.data.perClass, { train: 28, validation: 12, test: 294 });
  assert.deepEqual(plan.differences, []);
  assert.match(plan.text, /No difference from the walkthrough/);

  // one changed setting shows up, and only it
  const plan2 = describeRun(W, { config: { ...full, fineTuneEpochs: 20 }, generated, show: false });
  assert.deepEqual(
    plan2.differences.map((d) => [d.setting, d.walkthrough, d.run, d.major]),
    [['fineTuneEpochs', '101', '20', true]],
  );
});

test('a flip the generated data cannot take is listed; with real photos it is not', () => {
  const augmentation = { horizontalFlip: true, verticalFlip: false, rotationRange: 8 };
  const plan = describeRun(W, { config: { ...quick, augmentation }, generated, show: false });
  const flip = plan.differences.filter((d) => d.setting.includes('flip'));
  assert.equal(flip.length, 1, plan.differences.map((d) => d.setting).join(', '));
  assert.equal(flip[0].setting, 'augmentation: horizontal flip');
  // the count is labelSafeAugmentation's: some of the 43 generated classes change when mirrored
  const changed = Number(
    /off \(mirrored, (\d+) of the 43 generated classes change\)/.exec(flip[0].run)?.[1],
  );
  assert.ok(changed > 0 && changed < 43, flip[0].run);
  assert.equal(flip[0].major, false);
  // no flip asked: nothing listed
  const none = describeRun(W, {
    config: { ...quick, augmentation: { ...augmentation, horizontalFlip: false } },
    generated,
    show: false,
  });
  assert.ok(!none.differences.some((d) => d.setting.includes('flip')));
  // real photos keep the flip as written
  process.env.GTSRB_DIR = gtsrbFolder(3, 5, 2, 4);
  const real = describeRun(W, { config: { ...quick, augmentation }, generated, show: false });
  assert.ok(!real.differences.some((d) => d.setting.includes('flip')));
});

test('real data with fewer images per class is a difference, counted from the folders', () => {
  process.env.GTSRB_DIR = gtsrbFolder(3, 5, 2, 4);
  // macOS' AppleDouble copies have an image extension but are not images: the loaders skip them
  fs.writeFileSync(path.join(process.env.GTSRB_DIR, 'Train', '0', '._0.png'), '');
  fs.mkdirSync(path.join(process.env.GTSRB_DIR, 'Train', '.hidden'));
  const plan = describeRun(W, { config: quick, generated, show: false });
  assert.equal(plan.data.source, 'real');
  assert.equal(plan.data.classes, 3);
  assert.deepEqual(plan.data.perClass, { train: 5, validation: 2, test: 4 });
  assert.match(plan.data.text, /15 \/ 6 \/ 12 images/);
  const row = plan.differences.find((d) => d.setting.startsWith('images per class'))!;
  assert.equal(row.run, '5 / 2 / 4');
  assert.ok(!plan.differences.some((d) => d.setting === 'data'));
});

test('readDifferences: a different setup names the differences; the same setup checks the interval', () => {
  const plan = describeRun(W, { config: quick, generated, show: false });
  const r = readDifferences(plan, {
    row: 'fine-tuning (test)',
    result: { accuracy: 0.186, size: 258 },
    show: false,
  });
  assert.equal(r.verdict, 'different setup');
  assert.match(r.text, /96\.3%/);
  assert.match(r.text, /imageSize: \[32, 32\] \(walkthrough: \[224, 224\]\)/);
  assert.match(r.text, /weights: stand-in .* \(walkthrough: ImageNet\)/);

  const same = { ...plan, differences: [] };
  const hit = readDifferences(same, {
    row: 'fine-tuning (test)',
    result: { accuracy: 0.96, size: 500 },
    show: false,
  });
  assert.equal(hit.verdict, 'reproduced');
  const miss = readDifferences(same, {
    row: 'fine-tuning (test)',
    result: { accuracy: 0.9, size: 500 },
    show: false,
  });
  assert.equal(miss.verdict, 'below published');
  assert.throws(
    () => readDifferences(plan, { row: 'nope', result: { accuracy: 1, size: 1 }, show: false }),
    /published no accuracy for "nope"; its rows are/,
  );
});

test('conclude: the lesson shows, does not show, or is contradicted, from the reading', () => {
  const plan = describeRun(W, { config: quick, generated, show: false });
  const n = 258;
  const labels = Array.from({ length: n }, (_, i) => i % 43);
  const wrong = labels.map((l) => (l + 1) % 43);
  const right = labels.slice();
  const scratch = { accuracy: 0, size: n, labels, predicted: wrong };
  const tuned = { accuracy: 1, size: n, labels, predicted: right };
  const better = readComparison(scratch, tuned, {
    names: ['from scratch', 'fine-tuning'],
    show: false,
  });
  const c = conclude(plan, { evidence: better, show: false });
  assert.equal(c.outcome, 'shown');
  assert.match(c.text, /This run shows it\./);
  assert.match(c.text, /differs from the walkthrough's in \d+ ways/);

  const noise = readComparison(scratch, scratch, { names: ['a', 'b'], show: false });
  assert.equal(conclude(plan, { evidence: noise, show: false }).outcome, 'not shown');
  const worse = readComparison(tuned, scratch, { names: ['a', 'b'], show: false });
  assert.equal(conclude(plan, { evidence: worse, show: false }).outcome, 'contradicted');
  const chance = readResult({ accuracy: 1 / 43, size: n }, { classes: 43, show: false });
  assert.equal(lessonOutcome(chance.verdict), 'not shown');
});

test('NB_SET changes settings of the active profile, and refuses unknown keys and bad JSON', () => {
  const profiles = { shared: { dropout: 0.5 }, quick: { epochs: 5 }, full: { epochs: 100 } };
  process.env.NB_SET = '{"dropout": 0, "epochs": 60}';
  const cfg = profileConfig(profiles, { profile: 'quick', show: false });
  assert.equal(cfg.dropout, 0);
  assert.equal(cfg.epochs, 60);
  process.env.NB_SET = '{"dropuot": 0}';
  assert.throws(
    () => profileConfig(profiles, { profile: 'quick', show: false }),
    /dropuot.*not a setting.*dropout, epochs/,
  );
  process.env.NB_SET = '{dropout: 0}';
  assert.throws(
    () => profileConfig(profiles, { profile: 'quick', show: false }),
    /NB_SET is not JSON/,
  );
  delete process.env.NB_SET;
  assert.equal(profileConfig(profiles, { profile: 'quick', show: false }).dropout, 0.5);
});

test("notebook 04's disclosure: weights and whose images, from IMAGES_DIR", () => {
  const cfg = { profile: 'quick' as const, imageSize: [64, 64], weights: 'auto' };
  delete process.env.IMAGES_DIR;
  const generated = describeOwnRun({ config: cfg, arch: 'resnet50', show: false });
  assert.match(generated.text, /profile `quick`, ResNet50 at 64×64 px/);
  assert.match(generated.text, /Not ImageNet/);
  assert.match(generated.text, /generated images, not yours/);
  process.env.IMAGES_DIR = tmpDir('own-');
  try {
    const own = describeOwnRun({ config: cfg, arch: 'resnet50', show: false });
    assert.match(own.text, /your images, from .* \(IMAGES_DIR\)/);
  } finally {
    delete process.env.IMAGES_DIR;
  }
});

test('conclude without a walkthrough states the notebook’s own lesson and no setup', () => {
  const r = readResult({ accuracy: 0.6, size: 50 }, { classes: 5, show: false });
  const c = conclude(
    { lesson: 'the folder’s classes can be learned' },
    { evidence: r, show: false },
  );
  assert.equal(c.outcome, 'shown');
  assert.match(
    c.text,
    /What this notebook sets out to show: the folder’s classes can be learned\. This run shows it\./,
  );
  assert.doesNotMatch(c.text, /walkthrough/);
});

// An honest pretrained stand-in for when Keras' ImageNet weights cannot be had (offline).
//
// The walkthroughs' lesson is that a base whose filters were learned on *another* task makes a few
// dozen images per class learnable. Random weights cannot show that. So, once per architecture and
// input size, we really pretrain the whole base on a pretext task: name the shape, colour scheme and
// symbol of generated signs (lib/data/pretext-signs.ts), half of them drawn as bad photographs, none
// of them one of the notebooks' generated classes or GTSRB's, on images drawn fresh at every step.
// The signs share their primitives with the notebooks' data — as ImageNet shares edges and textures
// with cars — but not their classes. The result is saved in Keras' HDF5 layout beside Keras' own
// files, under a name that says what it is, and every chart and table calls it "pretrained on
// generated data, not ImageNet".
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Architecture, PretextSpec } from './architecture';
import { loadKerasWeights, saveKerasWeights } from './h5';
import { hasBatchNorm, recalibrateBatchNorm } from './batchnorm';
import { writeFileAtomic } from '../io/atomic';
import { preprocessInput } from '../data/preprocess';
import { kerasCacheDir } from './weights';
import {
  renderPretextSign,
  PRETEXT_ATTRIBUTES as ATTRIBUTES,
  PRETEXT_SIGN_CLASSES,
} from '../data/pretext-signs';
import { rngFor } from '../rng';
import { withRandomSeed } from '../seed';
import { progressReporter } from '../io/progress';
import { runBatches } from '../io/batches';

export type { PretextSpec } from './architecture';

/**
 * 4: ResNet50's residual branches start at zero (standIn.residualBranchEnds);
 * 3: bases with BatchNormalization start from He's scale, as initialiseForPretraining always said
 * (version 2 missed this project's BatchNormalization layer and rescaled them too); 2: half the
 * signs photographed badly (lib/data/pretext-signs.ts); 1 was clean renders of 217 classes.
 */
export const PRETEXT_VERSION = 4;

/**
 * After the optimiser steps, BatchNormalization's moving statistics are set to their average over
 * this many fresh batches. Without it, Keras' momentum-0.99 averages after 100 steps still hold a third
 * of their 0/1 start and inference features come out ~100× too large (a ResNet50 head then learned
 * 21% instead of 78% in notebook 01's quick profile). Files from before this step lack
 * `batchNormCalibrated` and get it in place (seconds), keeping their pretraining.
 */
const CALIBRATION_BATCHES = 16;

/** The label charts and tables show for these weights. */
export const PRETEXT_LABEL = 'pretrained on generated data, not ImageNet';

export interface PretextLocation {
  file: string;
  path: string;
  /** JSON beside the weights: the spec they were trained with and how training went. */
  infoPath: string;
}

export function pretextWeightsLocation(
  arch: Architecture,
  inputSize: number,
  cacheDir = kerasCacheDir(),
): PretextLocation {
  // The name and the spec check in readPretextInfo are what finds a stand-in pretrained earlier.
  const file = `${arch.name}_pretext_generated_signs_${inputSize}px_notop.h5`;
  return { file, path: path.join(cacheDir, file), infoPath: path.join(cacheDir, `${file}.json`) };
}

export interface PretextInfo {
  version: number;
  app: string;
  inputSize: number;
  spec: PretextSpec;
  seconds: number;
  /** Accuracy on the last 20 steps' (fresh, never repeated) images: how well the pretext was learned. */
  finalAccuracy: number;
  finalLoss: number;
  /** BatchNormalization statistics averaged over fresh batches after training (see CALIBRATION_BATCHES). */
  batchNormCalibrated?: boolean;
}

/**
 * The side the stand-in for `arch` used at `inputSize` is pretrained at: the quick-profile side for
 * a base whose weights do not depend on the side (no BatchNormalization: VGG16), so one stand-in
 * serves GTSRB's photos at 48 px as well as the generated signs at 32; else `inputSize` itself.
 */
export function standInSide(arch: Architecture, inputSize: number): number {
  return arch.standIn.sizeIndependent ? arch.standIn.quickSize : inputSize;
}

/** Why a stand-in pretrained at one side loads at another (said wherever that happens). */
export function anySideReason(arch: Architecture): string {
  return `${arch.displayName} has no BatchNormalization, so its weights fit any side`;
}

/** The cached info of the stand-in for `arch` used at `inputSize` when it has today's recipe, else null. */
export function readPretextInfo(
  arch: Architecture,
  inputSize: number,
  cacheDir?: string,
): PretextInfo | null {
  const loc = pretextWeightsLocation(arch, standInSide(arch, inputSize), cacheDir);
  if (!fs.existsSync(loc.path) || !fs.existsSync(loc.infoPath)) return null;
  try {
    const info = JSON.parse(fs.readFileSync(loc.infoPath, 'utf8')) as PretextInfo;
    const spec = arch.standIn.spec;
    const same =
      info.version === PRETEXT_VERSION && JSON.stringify(info.spec) === JSON.stringify(spec);
    return same ? info : null;
  } catch {
    return null;
  }
}

export interface PretrainOptions {
  cacheDir?: string;
  /** Override the spec (tests use fewer steps). */
  spec?: Partial<PretextSpec>;
  /** Progress output (default true). */
  progress?: boolean;
}

/** One batch of freshly drawn pretext images, preprocessed for `arch`, with one-hot labels. */
function pretextBatch(arch: Architecture, size: number, spec: PretextSpec, step: number) {
  const n = spec.batchSize;
  const pixels = new Float32Array(n * size * size * 3);
  // Three labels per image — its shape, colour scheme and symbol — one softmax each.
  const attrs: number[][] = [];
  for (let i = 0; i < n; i++) {
    const { rgb, labels } = renderPretextSign(size, rngFor(spec.seed, 0x9e7e, step, i));
    pixels.set(rgb, i * rgb.length);
    attrs.push(labels);
  }
  return tf.tidy(() => ({
    xs: preprocessInput(tf.tensor4d(pixels, [n, size, size, 3]), arch.preprocessing),
    ys: ATTRIBUTES.map((a, j) =>
      tf
        .oneHot(
          tf.tensor1d(
            attrs.map((t) => t[j]),
            'int32',
          ),
          a.count,
        )
        .toFloat(),
    ),
  }));
}

/** Fresh pretext images (steps after the last optimiser step) for recalibrateBatchNorm. */
function* calibrationBatches(
  arch: Architecture,
  size: number,
  spec: PretextSpec,
): Generator<tf.Tensor> {
  for (let k = 1; k <= CALIBRATION_BATCHES; k++) {
    const { xs, ys } = pretextBatch(arch, size, spec, spec.steps + k);
    tf.dispose(ys);
    try {
      yield xs;
    } finally {
      xs.dispose();
    }
  }
}

/**
 * Where our pretraining starts: He-normal kernels for every convolution, each then scaled so that
 * its output has unit variance on a batch of pretext images (LSUV, Mishkin & Matas 2016). A deep
 * ReLU stack without batch normalisation (VGG16) barely moves in a few hundred steps from Keras'
 * glorot-uniform start, and He's scale alone assumes unit-variance inputs where 'caffe'
 * preprocessing hands the first layer values of ±128 (a first loss near 70 instead of ln C).
 * Bases with BatchNormalization normalise themselves and keep He's scale (rescaled kernels leave
 * their forward pass unchanged but make each Adam step larger against them: notebook 01 reached
 * 32% on a ResNet50 stand-in rescaled so, 58% on one at He's scale). This only changes where
 * *our* pretraining starts; `weights: null` keeps Keras' initialisers.
 *
 * A residual base (ResNet50) also starts each residual branch at zero (the scale of the batch norm
 * that ends it, `standIn.residualBranchEnds`), so every block starts as the identity: with it,
 * ResNet50's 100 steps bring the summed pretext loss to 5.8 instead of 8.0 (7.85 is a uniform
 * guess), and notebook 01 reached 83% on validation instead of 62% (machine C, 2026-12-07).
 */
function initialiseForPretraining(
  arch: Architecture,
  model: tf.LayersModel,
  batch: tf.Tensor,
): void {
  const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
  const normalised = hasBatchNorm(model);
  for (const layer of convs) {
    const [kernel, ...rest] = layer.getWeights();
    const fresh = tf.initializers.heNormal({}).apply(kernel.shape) as tf.Tensor4D;
    const zeros = rest.map((b) => tf.zerosLike(b));
    // the layer's pre-activation on the batch: its fresh kernel applied to what the layers before it
    // (already rescaled) compute; He's scale alone where BatchNormalization normalises
    let std = 1;
    if (!normalised) {
      const probe = tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
      std = tf.tidy(() => {
        const x = probe.predict(batch) as tf.Tensor4D;
        const cfg = layer.getConfig() as { strides?: number[]; padding?: string };
        const y = tf.conv2d(
          x,
          fresh,
          (cfg.strides ?? [1, 1]) as [number, number],
          (cfg.padding ?? 'valid') as 'same' | 'valid',
        );
        return Math.sqrt(tf.moments(y).variance.dataSync()[0]) || 1;
      });
    }
    const scaled = std === 1 ? fresh : tf.tidy(() => fresh.div(std));
    layer.setWeights([scaled, ...zeros]);
    tf.dispose([fresh, scaled, ...zeros]);
  }
  const branchEnds = arch.standIn.residualBranchEnds;
  const closing = branchEnds ? model.layers.filter((l) => branchEnds.test(l.name)) : [];
  for (const layer of closing) {
    const [gamma, ...rest] = layer.getWeights(); // gamma, beta, moving mean, moving variance
    const zero = tf.zerosLike(gamma);
    layer.setWeights([zero, ...rest]);
    zero.dispose();
  }
}

/**
 * Pretrain `arch`'s whole base (includeTop false) at `inputSize` on the generated pretext task and
 * save it atomically in Keras' HDF5 layout beside Keras' own weight files. Deterministic.
 */
export async function pretrainOnGeneratedData(
  arch: Architecture,
  inputSize: number,
  opts: PretrainOptions = {},
): Promise<PretextInfo> {
  const spec: PretextSpec = { ...arch.standIn.spec, ...opts.spec };
  const loc = pretextWeightsLocation(arch, inputSize, opts.cacheDir);
  const t0 = Date.now();
  return withRandomSeed(spec.seed, async () => {
    const base = await arch.build({
      includeTop: false,
      weights: null,
      inputShape: [inputSize, inputSize, 3],
      pooling: 'avg',
    });
    const first = pretextBatch(arch, inputSize, spec, 0);
    initialiseForPretraining(arch, base, first.xs);
    tf.dispose([first.xs, ...first.ys]);
    const heads = ATTRIBUTES.map(
      (a, j) =>
        tf.layers
          .dense({ units: a.count, name: `pretext_${j}` })
          .apply(base.outputs[0]) as tf.SymbolicTensor,
    );
    const model = tf.model({ inputs: base.inputs, outputs: heads });
    // tfjs' Adam on purpose, not the Keras-formula one the notebooks compile (lib/train/adam.ts):
    // tfjs divides by sqrt(v̂) + ε, Keras by sqrt(v̂) + ε/sqrt(1 − β2ᵗ), which damps the first
    // hundreds of steps on weights with gradients near ε. With Keras' formula VGG16's stand-in ended
    // at the same pretext loss but notebook 03's fine-tuning reached 22% instead of 42% on held-out
    // GTSRB tracks (machine C, 2026-12-07; README, *How far the stand-in carries to real photos*).
    const optimizer = tf.train.adam(spec.learningRate);
    const report = progressReporter(
      `Pretraining ${arch.name} at ${inputSize}px on generated signs (one time)`,
      { total: spec.steps, unit: 'steps', enabled: opts.progress !== false },
    );
    // Loss and accuracy averaged over the last 20 steps: what the progress line and the info file show.
    const recent: { loss: number; acc: number }[] = [];
    const mean = (k: 'loss' | 'acc') => recent.reduce((s, r) => s + r[k], 0) / recent.length;
    // The generated batches walk the library's one batch loop: freed after each step, and Jupyter's
    // Interrupt stops the pretraining between steps (nothing is saved then; the next call starts over).
    function* steps() {
      for (let step = 1; step <= spec.steps; step++) {
        const { xs, ys } = pretextBatch(arch, inputSize, spec, step);
        yield { xs, ys: { dispose: () => tf.dispose(ys) }, targets: ys, step };
      }
    }
    try {
      await runBatches(
        `pretraining the ${arch.name} stand-in`,
        steps(),
        async ({ xs, targets: ys, step }) => {
          let acc = 0;
          const loss = optimizer.minimize(() => {
            const outs = model.apply(xs, { training: true }) as tf.Tensor[];
            // Accuracy: all three attributes right (what "recognised the sign" means).
            const hits = tf.tidy(() =>
              tf
                .stack(outs.map((o, j) => tf.equal(o.argMax(-1), ys[j].argMax(-1))))
                .all(0)
                .sum(),
            );
            acc = (hits.dataSync()[0] as number) / spec.batchSize;
            hits.dispose();
            return tf.addN(
              outs.map((o, j) => tf.losses.softmaxCrossEntropy(ys[j], o)),
            ) as tf.Scalar;
          }, true)!;
          const l = (await loss.data())[0];
          loss.dispose();
          if (!Number.isFinite(l))
            throw new Error(
              `Pretraining ${arch.name} diverged at step ${step} (loss ${l}); delete ${loc.path} and retry, or report a bug.`,
            );
          recent.push({ loss: l, acc });
          if (recent.length > 20) recent.shift();
          const eta = (((Date.now() - t0) / step) * (spec.steps - step)) / 1000;
          report.note(
            `loss ${mean('loss').toFixed(3)} accuracy ${(mean('acc') * 100).toFixed(1)}% ETA ${eta.toFixed(0)} s`,
          );
          report.update(step);
        },
      );
      recalibrateBatchNorm(base, calibrationBatches(arch, inputSize, spec));
      fs.mkdirSync(path.dirname(loc.path), { recursive: true });
      await saveKerasWeights(base, loc.path);
      const info: PretextInfo = {
        version: PRETEXT_VERSION,
        app: arch.name,
        inputSize,
        spec,
        seconds: (Date.now() - t0) / 1000,
        finalAccuracy: mean('acc'),
        finalLoss: mean('loss'),
        batchNormCalibrated: true,
      };
      writeFileAtomic(loc.infoPath, JSON.stringify(info, null, 2) + '\n');
      report.done(
        `done in ${info.seconds.toFixed(0)} s, pretext accuracy ${(info.finalAccuracy * 100).toFixed(1)}% ` +
          `on ${PRETEXT_SIGN_CLASSES} sign classes -> ${loc.path}`,
      );
      return info;
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
}

/**
 * Weights pretrained before BatchNormalization was calibrated: compute those statistics now
 * (seconds) instead of pretraining again (minutes). Deterministic, like a fresh run.
 */
async function calibrateInPlace(
  arch: Architecture,
  inputSize: number,
  info: PretextInfo,
  cacheDir?: string,
): Promise<PretextInfo> {
  const loc = pretextWeightsLocation(arch, inputSize, cacheDir);
  const base = await arch.build({
    includeTop: false,
    weights: null,
    inputShape: [inputSize, inputSize, 3],
    pooling: 'avg',
  });
  try {
    await loadKerasWeights(base, loc.path);
    if (recalibrateBatchNorm(base, calibrationBatches(arch, inputSize, info.spec)) > 0)
      await saveKerasWeights(base, loc.path);
  } finally {
    base.dispose();
  }
  const calibrated = { ...info, batchNormCalibrated: true };
  writeFileAtomic(loc.infoPath, JSON.stringify(calibrated, null, 2) + '\n');
  return calibrated;
}

/**
 * Path of the pretext weights for `arch` used at `inputSize`, pretraining them first when not
 * cached (at `standInSide`: a base without BatchNormalization shares one stand-in across sides).
 */
export async function getPretextWeights(
  arch: Architecture,
  usedAt: number,
  opts: PretrainOptions = {},
): Promise<{ path: string; info: PretextInfo }> {
  const inputSize = standInSide(arch, usedAt);
  const loc = pretextWeightsLocation(arch, inputSize, opts.cacheDir);
  const info = opts.spec ? null : readPretextInfo(arch, inputSize, opts.cacheDir);
  if (!info) return { path: loc.path, info: await pretrainOnGeneratedData(arch, inputSize, opts) };
  return {
    path: loc.path,
    info: info.batchNormCalibrated
      ? info
      : await calibrateInPlace(arch, inputSize, info, opts.cacheDir),
  };
}

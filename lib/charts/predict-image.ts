// One new image through the classifier: the image beside a table of its top-k classes with
// confidences (the walkthrough's "new, unseen car image" cell).
import * as tf from '@tensorflow/tfjs';
import { loadImageFile, sharpOfImageFile, type Interpolation } from '../data/decode';
import { preprocessInput, type PreprocessMode } from '../data/preprocess';
import type { ImageSize } from '../data/types';
import { describeAs, showBundle } from '../display';
import { topKIndices } from '../evaluate/metrics';
import { escapeHtml } from '../io/html';
import { formatPercent } from './format';
import { RIGHT_COLOUR, WRONG_COLOUR } from './grid';
import { runBatches } from '../io/batches';

export interface PredictImageOptions {
  /** Class names, one per model output (e.g. dataset.classNames). */
  classNames: string[];
  /** How many classes to list (default 5). */
  topK?: number;
  /** [height, width] fed to the model (default: the model's input shape). */
  imageSize?: ImageSize;
  /**
   * Keras preprocess_input mode or base model name ('caffe' | 'tf' | 'torch' | 'vgg16' | 'resnet50' |
   * 'inceptionv3'), 'none', or a function of the RGB 0..255 batch. Must match the training data.
   */
  preprocess?: PreprocessMode | 'none' | ((x: tf.Tensor4D) => tf.Tensor);
  /** Resize method (default 'bilinear', as image_dataset_from_directory; flow_from_directory uses 'nearest'). */
  interpolation?: Interpolation;
  /** The true class name, when known: shown above the table, its row marked, a wrong top-1 in red. */
  trueClass?: string;
  /** Side of the thumbnail shown, in pixels (default 256). */
  thumbnailSize?: number;
  show?: boolean;
}

export interface PredictImageResult {
  top: { className: string; classIndex: number; probability: number }[];
  /** With trueClass: whether the top-1 class is the true one (undefined without trueClass). */
  correct?: boolean;
  /** With trueClass: its rank among all classes (1 = top-1). */
  trueRank?: number;
  html: string;
  text: string;
}

function inputSize(model: tf.LayersModel): [number, number] | null {
  const shape = model.inputs[0]?.shape;
  return shape && typeof shape[1] === 'number' && typeof shape[2] === 'number'
    ? [shape[1], shape[2]]
    : null;
}

/** One image file as the model's input batch [1, h, w, 3]: resized to the model's size and preprocessed. */
export async function imageInput(
  fn: string,
  model: tf.LayersModel,
  imagePath: string,
  opts: Pick<PredictImageOptions, 'imageSize' | 'preprocess' | 'interpolation'>,
): Promise<tf.Tensor4D> {
  const size = opts.imageSize ?? inputSize(model);
  if (!size)
    throw new Error(
      `${fn}: the model's input has no fixed size; pass imageSize: [height, width] (e.g. [299, 299]).`,
    );
  const img = await loadImageFile(imagePath, {
    imageSize: size,
    interpolation: opts.interpolation ?? 'bilinear',
  });
  return tf.tidy(() => {
    const x = tf.tensor4d(img.data, [1, img.height, img.width, 3]);
    const pre = opts.preprocess;
    return (
      typeof pre === 'function' ? pre(x) : !pre || pre === 'none' ? x : preprocessInput(x, pre)
    ) as tf.Tensor4D;
  });
}

/** Classify one image file and show it with its top-k classes and confidences. */
export async function predictImage(
  model: tf.LayersModel,
  imagePath: string,
  opts: PredictImageOptions,
): Promise<PredictImageResult> {
  const k = opts.topK ?? 5;
  const input = await imageInput('predictImage', model, imagePath, opts);
  let scores = new Float32Array(0);
  // A batch of one through the one batch loop: freed after the step, and nothing is shown when
  // Jupyter's Interrupt came during it.
  await runBatches('predictImage', [{ xs: input }], async (b) => {
    const probs = model.predict(b.xs) as tf.Tensor;
    scores = (await probs.data()) as Float32Array;
    probs.dispose();
  });
  if (scores.length !== opts.classNames.length) {
    throw new Error(
      `predictImage: the model outputs ${scores.length} classes but ${opts.classNames.length} classNames were given; pass the training dataset's classNames.`,
    );
  }
  const top = topKIndices(scores, k).map((c) => ({
    className: opts.classNames[c],
    classIndex: c,
    probability: scores[c],
  }));
  const truth = opts.trueClass;
  if (truth !== undefined && !opts.classNames.includes(truth)) {
    throw new Error(
      `predictImage: trueClass "${truth}" is not one of the classNames; pass the class name as the training dataset spells it.`,
    );
  }
  // The verdict a reader looks for first: right, wrong (and where the true class ranks), or unknown.
  const trueIndex = truth === undefined ? -1 : opts.classNames.indexOf(truth);
  // Rank as topKIndices orders: higher score first, lower index first on ties.
  const rank =
    trueIndex < 0
      ? -1
      : 1 +
        scores.filter((p, c) => p > scores[trueIndex] || (p === scores[trueIndex] && c < trueIndex))
          .length;
  const correct = truth !== undefined && top[0]?.className === truth;
  const verdict =
    truth === undefined
      ? 'True class unknown.'
      : correct
        ? `True class: ${truth}. Top-1 is correct.`
        : `True class: ${truth}. Top-1 is WRONG (${top[0].className}); the true class ranks ${rank} of ${scores.length}${rank <= k ? '' : `, outside the top ${k}`}.`;
  const mark = (name: string, i: number) =>
    truth === undefined ? '' : name === truth ? ' ✓ true class' : i === 0 ? ' ✗ wrong' : '';
  const text = [
    `Top ${top.length} predictions for ${imagePath}:`,
    ...top.map(
      (t, i) =>
        `  ${i + 1}. ${t.className} (Confidence: ${formatPercent(t.probability)})${mark(t.className, i)}`,
    ),
    verdict,
  ].join('\n');
  const thumbSize = opts.thumbnailSize ?? 256;
  // The pixels the model was given (the EXIF policy of lib/data/decode), not the photo turned upright.
  const thumb = await (
    await sharpOfImageFile(imagePath)
  )
    .resize(thumbSize, thumbSize, { fit: 'inside' })
    .jpeg({ quality: 85 })
    .toBuffer();
  const rows = top
    .map((t, i) => {
      const hit = truth !== undefined && t.className === truth;
      const miss = truth !== undefined && i === 0 && !hit;
      const style = hit
        ? ` style="color:${RIGHT_COLOUR};font-weight:bold"`
        : miss
          ? ` style="color:${WRONG_COLOUR};font-weight:bold"`
          : '';
      const bar = `<div style="background:#1f77b4;height:10px;width:${Math.max(1, Math.round(t.probability * 120))}px"></div>`;
      return `<tr${style}><td style="text-align:right">${i + 1}</td><td style="text-align:left">${escapeHtml(t.className)}${escapeHtml(mark(t.className, i))}</td><td style="text-align:right">${formatPercent(t.probability)}</td><td style="text-align:left">${bar}</td></tr>`;
    })
    .join('');
  const verdictColour = truth === undefined ? '#555' : correct ? RIGHT_COLOUR : WRONG_COLOUR;
  const html =
    `<div style="display:flex;gap:18px;align-items:flex-start;flex-wrap:wrap">` +
    `<img src="data:image/jpeg;base64,${thumb.toString('base64')}" alt="${escapeHtml(imagePath)}" style="max-width:${thumbSize}px"/>` +
    `<div><p style="color:${verdictColour};font-weight:bold;margin:0 0 6px 0">${escapeHtml(verdict)}</p>` +
    `<table><caption style="text-align:left;font-weight:bold">Top ${top.length} predictions</caption>` +
    `<thead><tr><th>#</th><th style="text-align:left">class</th><th>confidence</th><th></th></tr></thead><tbody>${rows}</tbody></table></div></div>`;
  if (opts.show !== false) showBundle({ 'text/html': html, 'text/plain': text });
  return describeAs(
    {
      top,
      correct: truth === undefined ? undefined : correct,
      trueRank: truth === undefined ? undefined : rank,
      html,
      text,
    },
    (r) =>
      `[prediction: ${r.top[0]?.className} ${formatPercent(r.top[0]?.probability)}; .top (${r.top.length}), .html, .text]`,
    { shown: opts.show !== false },
  );
}

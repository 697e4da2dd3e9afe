// Grad-CAM (Selvaraju et al. 2017): which parts of an image made the model choose a class. The
// gradient of the class score with respect to a convolutional layer's feature maps, averaged over
// space, weights each map; their weighted sum (negative parts cut) is a coarse heatmap, drawn over
// the image. As in Keras' Grad-CAM example, the score is the class logit (the output softmax is
// bypassed while computing it) and the default layer is the last convolutional feature map.
import sharp from 'sharp';
import type { PreprocessMode } from '../data/preprocess';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset, ImageSize } from '../data/types';
import { decodeImageFile, type Interpolation } from '../data/decode';
import { planGraph, runPlan } from '../train/graph';
import { argMax } from '../evaluate/metrics';
import { composeGrid, sampleIndices, showGrid, type GridTile } from './grid';
import { describeAs, kb } from '../display';
import { chunked, runBatches } from '../io/batches';
import { imageInput } from './predict-image';

type Layer = tf.layers.Layer;

const TITLE_COLOUR = '#222222';

export interface GradCamOptions {
  /** The convolutional layer to explain (default: the last layer with a spatial feature map, e.g. ResNet50's conv5_block3_out). */
  layer?: string;
  /** A class to explain besides the predicted one (index into the outputs). */
  classIndex?: number;
  classNames?: string[];
  /** Keras preprocess_input mode or base name, 'none', or a function of the RGB 0..255 batch; must match the training data. */
  preprocess?: PreprocessMode | 'none' | ((x: tf.Tensor4D) => tf.Tensor);
  /** [height, width] fed to the model (default: the model's input shape). */
  imageSize?: ImageSize;
  interpolation?: Interpolation;
  /** Opacity of the heatmap over the image (default 0.45). */
  alpha?: number;
  tileSize?: number;
  fontSize?: number;
  show?: boolean;
}

/** One heatmap: values in [0, 1] at the layer's resolution, row-major. */
export interface GradCamMap {
  classIndex: number;
  className: string;
  probability: number;
  heatmap: Float32Array;
  height: number;
  width: number;
}

export interface GradCamResult {
  layer: string;
  /** 'logit' when the output softmax could be bypassed, else 'probability'. */
  score: 'logit' | 'probability';
  predicted: number;
  /** The predicted class's map first, then the chosen class's (when given and different). */
  maps: GradCamMap[];
  png: Buffer;
}

// ---------------------------------------------------------------------------------------------
// Finding the layer

/** Every layer call on the path to the output, in execution order, nested models opened. */
function flatSteps(model: tf.LayersModel): { layer: Layer; outputRank: number }[] {
  const out: { layer: Layer; outputRank: number }[] = [];
  for (const { layer, node } of planGraph(model).steps) {
    if (layer instanceof tf.LayersModel) out.push(...flatSteps(layer));
    else out.push({ layer, outputRank: node.outputTensors[0].shape.length });
  }
  return out;
}

const NOT_FEATURES = /Pooling|ZeroPadding|Cropping|Dropout|Flatten|Reshape/;

/**
 * The layer Grad-CAM explains by default: the last one with a spatial [batch, h, w, channels] output
 * before the classifier, pooling and padding skipped (VGG16: block5_conv3, ResNet50:
 * conv5_block3_out, InceptionV3: mixed10). Nested bases are searched too.
 */
export function lastConvLayer(model: tf.LayersModel): string {
  const steps = flatSteps(model).filter(
    (s) => s.outputRank === 4 && !NOT_FEATURES.test(s.layer.getClassName()),
  );
  const last = steps[steps.length - 1];
  if (!last)
    throw new Error(
      `gradCam: model "${model.name}" has no layer with a spatial feature map [batch, h, w, channels]; Grad-CAM needs a convolutional model.`,
    );
  return last.layer.name;
}

function findLayer(model: tf.LayersModel, name: string): Layer {
  const hit = flatSteps(model).filter((s) => s.layer.name === name);
  if (hit.length === 0) {
    const nested = model.layers.find((l) => l.name === name && l instanceof tf.LayersModel);
    throw new Error(
      nested
        ? `gradCam: "${name}" is a whole nested model; pass one of its layers, e.g. "${lastConvLayer(nested as tf.LayersModel)}".`
        : `gradCam: model "${model.name}" has no layer "${name}" on the path to its output; check model.layers.map(l => l.name), or leave layer out to use the last convolutional layer.`,
    );
  }
  if (hit.length > 1)
    throw new Error(
      `gradCam: layer "${name}" is called more than once in model "${model.name}"; choose a layer used once.`,
    );
  if (hit[0].outputRank !== 4)
    throw new Error(
      `gradCam: layer "${name}" outputs rank ${hit[0].outputRank}, not a [batch, h, w, channels] feature map; choose a convolutional layer.`,
    );
  return hit[0].layer;
}

// ---------------------------------------------------------------------------------------------
// The maps

type CallFn = (
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

/** Run `fn` with the layer's call replaced (its own call is passed in), restoring it afterwards. */
function withCall<T>(layer: Layer, replace: (original: CallFn) => CallFn, fn: () => T): T {
  const holder = layer as unknown as { call: CallFn };
  const own = Object.prototype.hasOwnProperty.call(holder, 'call') ? holder.call : undefined;
  const original = holder.call.bind(layer) as CallFn;
  holder.call = replace(original);
  try {
    return fn();
  } finally {
    if (own) holder.call = own;
    else delete (holder as { call?: CallFn }).call;
  }
}

/** Bypass a final softmax (Dense or Activation layer) so scores are logits; null when there is none to bypass. */
function withoutSoftmax<T>(model: tf.LayersModel, fn: (score: 'logit' | 'probability') => T): T {
  let layer: Layer = model.outputs[0].sourceLayer;
  while (layer instanceof tf.LayersModel) layer = layer.outputs[0].sourceLayer;
  const holder = layer as unknown as { activation?: { getClassName(): string } | null };
  if (holder.activation?.getClassName() !== 'softmax') return fn('probability');
  const softmax = holder.activation;
  holder.activation = {
    getClassName: () => 'linear',
    apply: (x: tf.Tensor) => x,
  } as unknown as typeof softmax;
  try {
    return fn('logit');
  } finally {
    holder.activation = softmax;
  }
}

/**
 * Grad-CAM maps for a batch: image i is explained for class classes[i]. Returns one normalised map
 * per image (the layer's resolution) and the model's output probabilities.
 */
export function gradCamMaps(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  classes: number[] | null,
  layerName?: string,
): {
  layer: string;
  score: 'logit' | 'probability';
  maps: Float32Array[];
  height: number;
  width: number;
  probabilities: Float32Array[];
} {
  const name = layerName ?? lastConvLayer(model);
  const layer = findLayer(model, name);
  const plan = planGraph(model);
  const n = xs.shape[0];
  // 1. Forward: the probabilities, and the layer's feature maps A.
  let features: tf.Tensor4D | null = null;
  const probsT = tf.tidy(() => {
    const out = withCall(
      layer,
      (original) => (inputs, kwargs) => {
        const y = original(inputs, kwargs) as tf.Tensor4D;
        features = tf.keep(y);
        return y;
      },
      () => runPlan(plan, [xs], false)[0],
    );
    return out;
  });
  const probsData = probsT.dataSync() as Float32Array;
  const k = probsT.shape[probsT.shape.length - 1]!;
  probsT.dispose();
  const probabilities = Array.from({ length: n }, (_, i) => probsData.slice(i * k, (i + 1) * k));
  const target = classes ?? probabilities.map((p) => argMax(p));
  for (const c of target) {
    if (!(Number.isInteger(c) && c >= 0 && c < k))
      throw new Error(`gradCam: classIndex ${c} is not a class of the model (0..${k - 1}).`);
  }
  const A = features as tf.Tensor4D | null;
  if (!A)
    throw new Error(
      `gradCam: layer "${name}" did not run when predicting; is it on the path to the output?`,
    );
  try {
    // 2. Gradient of each image's class score with respect to A (the layer's output replaced by A,
    // so everything after it is differentiated; images are independent in inference mode).
    const { maps, score } = withoutSoftmax(model, (score) => {
      const maps = tf.tidy(() => {
        const oneHot = tf.oneHot(tf.tensor1d(target, 'int32'), k);
        const grads = tf.grad((a: tf.Tensor) =>
          withCall(
            layer,
            () => () => a,
            () => tf.sum(tf.mul(runPlan(plan, [xs], false)[0], oneHot)),
          ),
        )(A);
        const weights = tf.mean(grads, [1, 2], true); // [n, 1, 1, channels]
        const cam = tf.relu(tf.sum(tf.mul(A, weights), -1)); // [n, h, w]
        const max = tf.max(cam, [1, 2], true);
        return tf.div(cam, tf.maximum(max, 1e-12));
      });
      return { maps, score };
    });
    const [h, w] = [maps.shape[1]!, maps.shape[2]!];
    const data = maps.dataSync() as Float32Array;
    maps.dispose();
    return {
      layer: name,
      score,
      maps: Array.from({ length: n }, (_, i) => data.slice(i * h * w, (i + 1) * h * w)),
      height: h,
      width: w,
      probabilities,
    };
  } finally {
    A.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing

/** The 'jet' colour map of the Grad-CAM paper and Keras' example: blue (0) → red (1). */
function jet(t: number): [number, number, number] {
  const c = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** The heatmap (bilinear upsampling) blended over the original image at its aspect ratio, as PNG. */
export async function overlayHeatmap(
  file: string,
  map: Float32Array,
  mapH: number,
  mapW: number,
  opts: { size?: number; alpha?: number; exifTranspose?: boolean } = {},
): Promise<Buffer> {
  const size = opts.size ?? 192;
  const alpha = opts.alpha ?? 0.45;
  // The pixels the model saw: the EXIF policy of lib/data/decode (or of the image's dataset).
  const img = await decodeImageFile(file, { exifTranspose: opts.exifTranspose });
  const scale = size / Math.max(img.width, img.height);
  const [W, H] = [
    Math.max(1, Math.round(img.width * scale)),
    Math.max(1, Math.round(img.height * scale)),
  ];
  const base = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(W, H, { fit: 'fill' })
    .raw()
    .toBuffer();
  const up = tf.tidy(
    () =>
      tf.image
        .resizeBilinear(tf.tensor3d(map, [mapH, mapW, 1]), [H, W], false, true)
        .dataSync() as Float32Array,
  );
  const out = Buffer.alloc(W * H * 3);
  for (let p = 0; p < W * H; p++) {
    const colour = jet(up[p]);
    for (let ch = 0; ch < 3; ch++)
      out[3 * p + ch] = Math.round((1 - alpha) * base[3 * p + ch] + alpha * colour[ch]);
  }
  return sharp(out, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
}

function pct(p: number): string {
  return `${(100 * p).toFixed(1)}%`;
}

/**
 * Grad-CAM of one image file: the image, the heatmap of the predicted class over it, and (with
 * `classIndex`) the heatmap of a chosen class, side by side. Preprocess the image as in training
 * (`preprocess: 'resnet50'`, or 'none' when the model has its own preprocessing layer).
 */
export async function gradCam(
  model: tf.LayersModel,
  image: string,
  opts: GradCamOptions = {},
): Promise<GradCamResult> {
  const xs = await imageInput('gradCam', model, image, opts);
  // Predicted class first; the chosen one (when different) from a second backward pass.
  let first!: ReturnType<typeof gradCamMaps>;
  let chosen: Float32Array | null = null;
  await runBatches('gradCam', [{ xs }], (b) => {
    first = gradCamMaps(model, b.xs, null, opts.layer);
    const p = argMax(first.probabilities[0]);
    if (opts.classIndex !== undefined && opts.classIndex !== p)
      chosen = gradCamMaps(model, b.xs, [opts.classIndex], first.layer).maps[0];
  });
  const predicted = argMax(first.probabilities[0]);
  const maps: GradCamMap[] = [];
  const names = opts.classNames ?? [];
  const entry = (c: number, heatmap: Float32Array): GradCamMap => ({
    classIndex: c,
    className: names[c] ?? String(c),
    probability: first.probabilities[0][c],
    heatmap,
    height: first.height,
    width: first.width,
  });
  maps.push(entry(predicted, first.maps[0]));
  if (chosen) maps.push(entry(opts.classIndex!, chosen));
  const tileSize = opts.tileSize ?? 192;
  const tiles: GridTile[] = [{ file: image, title: { text: 'image', colour: TITLE_COLOUR } }];
  for (const [i, m] of maps.entries()) {
    tiles.push({
      file: image,
      image: await overlayHeatmap(image, m.heatmap, m.height, m.width, {
        size: tileSize,
        alpha: opts.alpha,
      }),
      title: {
        text: `${i === 0 ? 'predicted' : 'class'}: ${m.className} (${pct(m.probability)})`,
        colour: TITLE_COLOUR,
      },
    });
  }
  const png = await composeGrid(tiles, { cols: tiles.length, tileSize, fontSize: opts.fontSize });
  const text =
    `Grad-CAM at "${first.layer}" (${first.height}×${first.width}, ${first.score}): ` +
    maps.map((m) => `${m.className} ${pct(m.probability)}`).join('; ');
  if (opts.show !== false) await showGrid(png, text);
  return describeAs(
    { layer: first.layer, score: first.score, predicted, maps, png },
    (r) => `[grad-cam at ${r.layer}: ${r.maps.length} map(s); .maps, .png (${kb(r.png)})]`,
    { shown: opts.show !== false },
  );
}

export interface GradCamGridOptions extends Omit<
  GradCamOptions,
  'preprocess' | 'imageSize' | 'interpolation' | 'classIndex'
> {
  /** Which images (indices into dataset.files); default a seeded sample of `count`. */
  indices?: number[];
  /** How many images when `indices` is not given (default 4). */
  count?: number;
  seed?: number;
}

export interface GradCamGridResult {
  layer: string;
  indices: number[];
  predicted: number[];
  png: Buffer;
}

/**
 * Grad-CAM for a handful of dataset images (preprocessed as the dataset does), one row each: the
 * image, the predicted class's heatmap, and the true class's heatmap when the prediction is wrong.
 */
export async function gradCamGrid(
  model: tf.LayersModel,
  dataset: ImageDataset,
  opts: GradCamGridOptions = {},
): Promise<GradCamGridResult> {
  if (dataset.size === 0)
    throw new Error('gradCamGrid: the dataset has no images; check its folder.');
  const indices = opts.indices ?? sampleIndices(dataset.size, opts.count ?? 4, opts.seed ?? 42);
  for (const i of indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < dataset.size))
      throw new Error(`gradCamGrid: index ${i} is outside the dataset (0..${dataset.size - 1}).`);
  }
  const names = opts.classNames ?? dataset.classNames;
  const ds = dataset.withoutAugmentation();
  let layer = opts.layer;
  const tiles: GridTile[] = [];
  const predicted: number[] = [];
  const tileSize = opts.tileSize ?? 160;
  // One image at a time through the batch loop: a row costs a forward and two backward passes, and
  // Jupyter's Interrupt stops the grid between rows.
  const images = chunked(indices, 1, (chunk) => ds.load(chunk));
  await runBatches('gradCamGrid', images, async (batch) => {
    const own = gradCamMaps(model, batch.xs, null, layer);
    layer = own.layer;
    const truth = gradCamMaps(model, batch.xs, batch.labels, layer);
    for (const [j, idx] of batch.indices.entries()) {
      const file = dataset.files[idx];
      const p = argMax(own.probabilities[j]);
      predicted.push(p);
      const actual = batch.labels[j];
      const probs = own.probabilities[j];
      const ok = p === actual;
      const colour = ok ? '#138a36' : '#d32f2f';
      const exifTranspose = dataset.exifTranspose;
      tiles.push({
        file,
        exifTranspose,
        title: { text: `actual: ${names[actual] ?? actual}`, colour: TITLE_COLOUR },
      });
      tiles.push({
        file,
        image: await overlayHeatmap(file, own.maps[j], own.height, own.width, {
          size: tileSize,
          alpha: opts.alpha,
          exifTranspose,
        }),
        title: { text: `predicted: ${names[p] ?? p} (${pct(probs[p])})`, colour },
      });
      tiles.push(
        ok
          ? {
              file,
              image: await sharp({
                create: { width: tileSize, height: tileSize, channels: 3, background: '#ffffff' },
              })
                .png()
                .toBuffer(),
              title: { text: ' ', colour: TITLE_COLOUR },
            }
          : {
              file,
              image: await overlayHeatmap(file, truth.maps[j], truth.height, truth.width, {
                size: tileSize,
                alpha: opts.alpha,
                exifTranspose,
              }),
              title: {
                text: `actual: ${names[actual] ?? actual} (${pct(probs[actual])})`,
                colour: TITLE_COLOUR,
              },
            },
      );
    }
  });
  const png = await composeGrid(tiles, {
    cols: 3,
    tileSize,
    fontSize: opts.fontSize,
    maxLinesPerPart: 2,
  });
  if (opts.show !== false)
    await showGrid(
      png,
      `Grad-CAM at "${layer}" for ${indices.length} images: image, predicted class, actual class (when wrong)`,
    );
  return describeAs(
    { layer: layer!, indices, predicted, png },
    (r) => `[grad-cam grid at ${r.layer}: ${r.indices.length} images; .png (${kb(r.png)})]`,
    { shown: opts.show !== false },
  );
}

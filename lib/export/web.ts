// exportForWeb(): ship a trained classifier as a folder a browser opens. It holds the tfjs
// LayersModel (model.json + weights), a local copy of tfjs (no CDN: the page works offline), and
// one self-contained index.html that takes a dropped or chosen image, preprocesses it exactly as the
// notebook did (resize, then Keras' preprocess_input) and shows the top-5 classes.
//
// Plain @tensorflow/tfjs in a browser knows only its own layers, so this project's custom layers
// are folded into standard ones: KerasBatchNormalization becomes BatchNormalization (at inference
// they compute the same thing), and a PreprocessInput layer becomes a 1×1 Conv2D whose weights do
// the channel flip, scaling and mean subtraction of its mode. The export is checked against the
// original model before anything is written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic as atomicWriteFile } from '../io/atomic';
import {
  CAFFE_MEAN_BGR,
  TORCH_MEAN,
  TORCH_STD,
  resolvePreprocessMode,
  type PreprocessMode,
} from '../data/preprocess';
import { describeAs } from '../display';
import type { ImageSize } from '../data/types';
import { webPage } from './web-page';
import { exifTranspose } from '../data/decode';
import { checkClassNames } from '../data/names';
import { shellQuote, toPlainText } from '../io/text';

export interface WebPreprocessing {
  /** Keras preprocess_input mode or base name ('caffe' | 'tf' | 'torch' | 'resnet50' | …), or 'none' when the model preprocesses itself. */
  mode: string;
  /** [height, width] the image is resized to (default: the model's input size). */
  imageSize?: ImageSize;
  /** Resize method, as the dataset used (default 'bilinear'; flowFromDirectory's Keras default is 'nearest'). */
  interpolation?: 'bilinear' | 'nearest';
}

export interface ExportForWebOptions {
  /** Class names, one per model output (e.g. train.classNames). */
  classNames: string[];
  /** What the training data went through before the model: a mode ('resnet50', 'caffe', 'none', …) or the full settings. */
  preprocessing: string | WebPreprocessing;
  /** Page title (default: the model's name). */
  title?: string;
  /** Classes listed (default 5). */
  topK?: number;
  /**
   * Turn photos by their EXIF orientation in the page. Default: the policy in force when exporting
   * (lib/data/decode's exifTranspose(), false: pixels as stored, as Keras); use the training data's.
   */
  exifTranspose?: boolean;
}

export interface ExportForWebResult {
  dir: string;
  /** Files written, relative to dir. */
  files: string[];
  /** Custom layers replaced by standard ones: "name: Class -> Class". */
  folded: string[];
  /** Largest difference between the exported and the original model's outputs on a test input. */
  maxDifference: number;
}

/** Layers this project registers that plain tfjs does not know; each has a fold below. */
const CUSTOM_LAYERS = new Set(['KerasBatchNormalization', 'PreprocessInput']);

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown> & { layers?: LayerJson[]; name?: string };
  inbound_nodes?: unknown[];
}

interface ExtraWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** The 1×1 convolution equal to preprocess_input(mode) on RGB 0..255: kernel [1,1,3,3] and bias [3]. */
export function preprocessAsConv(mode: PreprocessMode): {
  kernel: Float32Array;
  bias: Float32Array;
} {
  const kernel = new Float32Array(9); // index [in][out] = in * 3 + out
  const bias = new Float32Array(3);
  for (let o = 0; o < 3; o++) {
    if (mode === 'caffe') {
      kernel[(2 - o) * 3 + o] = 1; // output channel o (BGR order) reads input channel 2 - o (RGB)
      bias[o] = -CAFFE_MEAN_BGR[o];
    } else if (mode === 'tf') {
      kernel[o * 3 + o] = 1 / 127.5;
      bias[o] = -1;
    } else {
      kernel[o * 3 + o] = 1 / (255 * TORCH_STD[o]);
      bias[o] = -TORCH_MEAN[o] / TORCH_STD[o];
    }
  }
  return { kernel, bias };
}

/** Replace custom layers by standard ones in a saved topology (nested models included). */
function foldLayers(layers: LayerJson[], folded: string[], extra: ExtraWeight[]): void {
  for (const layer of layers) {
    if (Array.isArray(layer.config.layers)) foldLayers(layer.config.layers, folded, extra);
    if (layer.class_name === 'KerasBatchNormalization') {
      layer.class_name = 'BatchNormalization';
      folded.push(`${layer.name}: KerasBatchNormalization -> BatchNormalization`);
    } else if (layer.class_name === 'PreprocessInput') {
      const mode = resolvePreprocessMode(String(layer.config.mode));
      const { kernel, bias } = preprocessAsConv(mode);
      const { name, batch_input_shape } = layer.config;
      layer.class_name = 'Conv2D';
      layer.config = {
        name,
        trainable: false,
        dtype: 'float32',
        ...(batch_input_shape ? { batch_input_shape } : {}),
        filters: 3,
        kernel_size: [1, 1],
        strides: [1, 1],
        padding: 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        activation: 'linear',
        use_bias: true,
      };
      extra.push(
        { name: `${layer.name}/kernel`, shape: [1, 1, 3, 3], values: kernel },
        { name: `${layer.name}/bias`, shape: [3], values: bias },
      );
      folded.push(`${layer.name}: PreprocessInput('${mode}') -> Conv2D 1x1`);
    } else if (CUSTOM_LAYERS.has(layer.class_name)) {
      throw new Error(
        `exportForWeb: no standard tfjs layer replaces "${layer.class_name}" (layer ${layer.name}); add a fold for it in lib/export/web.ts.`,
      );
    }
  }
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let o = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}

/** The model as tfjs saves it, with custom layers folded into standard ones. */
export async function webModelArtifacts(
  model: tf.LayersModel,
): Promise<{ artifacts: tf.io.ModelArtifacts; folded: string[] }> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved as unknown as tf.io.ModelArtifacts;
  const topology = JSON.parse(JSON.stringify(a.modelTopology)) as LayerJson;
  const folded: string[] = [];
  const extra: ExtraWeight[] = [];
  foldLayers(topology.config.layers ?? [], folded, extra);
  const data = Array.isArray(a.weightData) ? concat(a.weightData) : (a.weightData as ArrayBuffer);
  const weightSpecs = [
    ...(a.weightSpecs ?? []),
    ...extra.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' as const })),
  ];
  const weightData = concat([data, ...extra.map((w) => w.values.slice().buffer)]);
  return {
    artifacts: {
      modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'],
      format: 'layers-model',
      weightSpecs,
      weightData,
    },
    folded,
  };
}

/** Reload the folded artifacts and compare outputs with the original on a fixed pseudo-random image. */
async function checkExport(
  model: tf.LayersModel,
  artifacts: tf.io.ModelArtifacts,
): Promise<number> {
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  try {
    const shape = model.inputs[0].shape.map((d, i) => (i === 0 ? 1 : (d ?? 32))) as number[];
    return tf.tidy(() => {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(
        Float32Array.from(
          { length: size },
          (_, i) => ((((Math.sin(i * 12.9898) * 43758.5453) % 1) + 1) % 1) * 255,
        ),
        shape,
      );
      const a = model.predict(x) as tf.Tensor;
      const b = reloaded.predict(x) as tf.Tensor;
      return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    });
  } finally {
    reloaded.dispose();
  }
}

function tfjsBrowserBundle(): string {
  const pkg = require.resolve('@tensorflow/tfjs/package.json');
  const file = path.join(path.dirname(pkg), 'dist', 'tf.min.js');
  if (!fs.existsSync(file))
    throw new Error(
      `exportForWeb: ${file} is missing; reinstall with npm ci (the @tensorflow/tfjs package ships it).`,
    );
  return file;
}

const WEIGHTS_FILE = 'weights.bin';

/**
 * Write `model` for the browser into `dir`: model.json + weights.bin (standard tfjs format, custom
 * layers folded), tf.min.js (a local copy of @tensorflow/tfjs) and index.html, a page that loads
 * them, takes a dropped or chosen image, applies `preprocessing` and shows the top-5 classes.
 * Serve the folder (e.g. `python3 -m http.server -d DIR`) and open it; opened from disk, the page
 * asks for model.json and weights.bin instead, since browsers block file:// fetches.
 */
export async function exportForWeb(
  model: tf.LayersModel,
  dir: string,
  opts: ExportForWebOptions,
): Promise<ExportForWebResult> {
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (!opts || !Array.isArray(opts.classNames) || opts.classNames.length !== units) {
    throw new Error(
      `exportForWeb: the model outputs ${units} classes; pass classNames with one name per class (e.g. train.classNames), got ${opts?.classNames?.length ?? 'none'}.`,
    );
  }
  checkClassNames(
    opts.classNames,
    'exportForWeb',
    "Pass the training dataset's classNames (e.g. train.classNames): the page shows each prediction by its name.",
  );
  const pre: WebPreprocessing =
    typeof opts.preprocessing === 'string' ? { mode: opts.preprocessing } : opts.preprocessing;
  if (!pre || typeof pre.mode !== 'string') {
    throw new Error(
      `exportForWeb: pass preprocessing: the mode the training data used ('resnet50', 'caffe', 'tf', 'torch'), or 'none' when the model has its preprocessing layer.`,
    );
  }
  const mode = pre.mode === 'none' ? 'none' : resolvePreprocessMode(pre.mode);
  const inputShape = model.inputs[0].shape;
  const imageSize =
    pre.imageSize ??
    (typeof inputShape[1] === 'number' && typeof inputShape[2] === 'number'
      ? ([inputShape[1], inputShape[2]] as [number, number])
      : null);
  if (!imageSize)
    throw new Error(
      "exportForWeb: the model's input has no fixed size; pass preprocessing: { mode, imageSize: [height, width] }.",
    );
  const interpolation = pre.interpolation ?? 'bilinear';
  if (interpolation !== 'bilinear' && interpolation !== 'nearest') {
    throw new Error(
      `exportForWeb: the page resizes with 'bilinear' or 'nearest' (tf.image.resize); got '${interpolation}'.`,
    );
  }

  const { artifacts, folded } = await webModelArtifacts(model);
  const maxDifference = await checkExport(model, artifacts);
  if (!(maxDifference < 1e-3)) {
    throw new Error(
      `exportForWeb: the exported model's outputs differ from the original by ${maxDifference} (folded: ${folded.join(', ') || 'nothing'}); nothing was written.`,
    );
  }
  fs.mkdirSync(dir, { recursive: true });
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: 'exportForWeb (lib/export/web.ts)',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    userDefinedMetadata: {
      classNames: opts.classNames,
      preprocessing: { mode, imageSize, interpolation },
    },
  };
  atomicWriteFile(
    path.join(dir, WEIGHTS_FILE),
    new Uint8Array(artifacts.weightData as ArrayBuffer),
  );
  atomicWriteFile(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  atomicWriteFile(path.join(dir, 'tf.min.js'), fs.readFileSync(tfjsBrowserBundle()), {
    fsync: false,
  });
  const html = webPage({
    title: opts.title ?? model.name,
    classNames: opts.classNames,
    mode,
    imageSize,
    interpolation,
    topK: opts.topK ?? 5,
    exifTranspose: opts.exifTranspose ?? exifTranspose(),
  });
  atomicWriteFile(path.join(dir, 'index.html'), html);
  const files = ['index.html', 'model.json', WEIGHTS_FILE, 'tf.min.js'];
  const mb = (artifacts.weightData as ArrayBuffer).byteLength / 1e6;
  console.log(
    `exportForWeb: wrote ${toPlainText(dir)}/{${files.join(',')}} (weights ${mb.toFixed(1)} MB` +
      `${folded.length ? `; ${folded.length} custom layer(s) folded into standard ones` : ''}). ` +
      `Serve it with: python3 -m http.server -d ${shellQuote(dir)} 8000, then open http://127.0.0.1:8000/`,
  );
  return describeAs(
    { dir, files, folded, maxDifference },
    (r) =>
      `[web export: ${toPlainText(r.dir)} (${r.files.join(', ')}); ${r.folded.length} layer(s) folded]`,
    { shown: true },
  );
}

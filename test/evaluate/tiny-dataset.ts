// A tiny in-memory ImageDataset over real PNG files (solid colours), and a tiny model whose
// predictions are known by construction: it predicts the brightest channel (R=0, G=1, B=2).
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import type { Batch, ImageDataset } from '../../lib/data/types';
import { tmpDir } from '../helpers';

export const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 200, 30],
  blue: [30, 30, 220],
};

export interface TinySpec {
  /** One entry per image: its true label and the colour its pixels have. */
  images: { label: number; colour: keyof typeof COLOURS }[];
  classNames?: string[];
  batchSize?: number;
  size?: [number, number];
}

class TinyDataset implements ImageDataset {
  readonly labelMode = 'int' as const;
  readonly augmented = false;
  readonly cacheKey = 'tiny';
  constructor(
    readonly classNames: string[],
    readonly files: string[],
    readonly labels: number[],
    readonly batchSize: number,
    readonly imageSize: [number, number],
  ) {}
  get size() {
    return this.files.length;
  }
  get numBatches() {
    return Math.ceil(this.size / this.batchSize);
  }
  async load(indices: number[]): Promise<Batch> {
    const [h, w] = this.imageSize;
    const pixels = new Float32Array(indices.length * h * w * 3);
    for (const [r, i] of indices.entries()) {
      const raw = await sharp(this.files[i])
        .removeAlpha()
        .resize(w, h, { fit: 'fill' })
        .raw()
        .toBuffer();
      for (let j = 0; j < raw.length; j++) pixels[r * h * w * 3 + j] = raw[j] / 255;
    }
    return {
      xs: tf.tensor4d(pixels, [indices.length, h, w, 3]),
      ys: tf.tensor1d(
        indices.map((i) => this.labels[i]),
        'int32',
      ),
      labels: indices.map((i) => this.labels[i]),
      indices,
    };
  }
  async *batches(): AsyncIterable<Batch> {
    for (let s = 0; s < this.size; s += this.batchSize) {
      yield this.load(
        Array.from({ length: Math.min(this.batchSize, this.size - s) }, (_, j) => s + j),
      );
    }
  }
  withoutAugmentation(): ImageDataset {
    return this;
  }
}

/** Write one solid-colour PNG per image (with a small dark square so tiles are not uniform). */
export async function tinyDataset(spec: TinySpec): Promise<ImageDataset> {
  const dir = tmpDir('tiny-ds-');
  const files: string[] = [];
  for (const [i, img] of spec.images.entries()) {
    const [r, g, b] = COLOURS[img.colour];
    const file = path.join(dir, `img${String(i).padStart(3, '0')}.png`);
    const square = await sharp({
      create: { width: 12, height: 12, channels: 3, background: { r: 20, g: 20, b: 20 } },
    })
      .png()
      .toBuffer();
    await sharp({ create: { width: 48, height: 40, channels: 3, background: { r, g, b } } })
      .composite([{ input: square, left: 4, top: 4 }])
      .png()
      .toFile(file);
    files.push(file);
  }
  fs.writeFileSync(path.join(dir, 'README'), 'test images');
  return new TinyDataset(
    spec.classNames ?? ['red', 'green', 'blue'],
    files,
    spec.images.map((i) => i.label),
    spec.batchSize ?? 4,
    spec.size ?? [8, 8],
  );
}

/** GlobalAveragePooling -> Dense(3, softmax) with weights 10·I: predicts the brightest channel. */
export function brightestChannelModel(
  size: [number, number] = [8, 8],
  opts: { l2?: number } = {},
): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.globalAveragePooling2d({ inputShape: [size[0], size[1], 3] }));
  model.add(
    tf.layers.dense({
      units: 3,
      activation: 'softmax',
      ...(opts.l2 ? { kernelRegularizer: tf.regularizers.l2({ l2: opts.l2 }) } : {}),
    }),
  );
  const dense = model.layers[1];
  tf.tidy(() => dense.setWeights([tf.eye(3).mul(10), tf.zeros([3])]));
  return model;
}

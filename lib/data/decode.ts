// Decoding image files (sharp; our own PPM reader) and resizing them the way Keras does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { decodeNetpbm, isNetpbm, netpbmSize, type DecodedRgb } from './ppm';
import { bmpSize, decodeBmp, isBmp } from './bmp';
import type { ImageSize } from './types';

export type { DecodedRgb } from './ppm';

/** An RGB image as float32 values 0..255, HWC order: what augmentation and batching work on. */
export interface RawImage {
  data: Float32Array;
  height: number;
  width: number;
}

/**
 * Resize methods. 'bilinear' and 'nearest' reproduce tf.image.resize (half-pixel centres, no
 * antialiasing: what `image_dataset_from_directory` does); 'nearest' also matches PIL, which
 * `flow_from_directory` uses. The others go through libvips' kernels.
 */
export type Interpolation = 'bilinear' | 'nearest' | 'bicubic' | 'lanczos3' | 'mitchell';

/** File extensions the directory loaders treat as images (others, like .DS_Store or .csv, are ignored). */
export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.png',
  '.bmp',
  '.webp',
  '.gif',
  '.ppm',
  '.pgm',
  '.tif',
  '.tiff',
];

/**
 * Largest image (width × height) decoded: PIL's `Image.MAX_IMAGE_PIXELS` (89,478,485, ~9459²), which
 * Keras' loaders inherit. A bigger file (a decompression bomb, a scan) would take gigabytes per image,
 * several at once while batches load. Set NB_MAX_IMAGE_PIXELS to change it.
 */
export const MAX_IMAGE_PIXELS = 89_478_485;

function maxImagePixels(): number {
  const env = Number(process.env.NB_MAX_IMAGE_PIXELS);
  return Number.isFinite(env) && env > 0 ? env : MAX_IMAGE_PIXELS;
}

function checkPixels(width: number, height: number): void {
  const limit = maxImagePixels();
  if (width * height > limit) {
    throw Object.assign(
      new Error(
        `the image is ${width}x${height} = ${(width * height).toLocaleString('en-US')} pixels, above the limit of ` +
          `${limit.toLocaleString('en-US')} (NB_MAX_IMAGE_PIXELS); shrink it first, or raise NB_MAX_IMAGE_PIXELS if it is meant to be that large`,
      ),
      { tooLarge: true },
    );
  }
}

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/**
 * The one EXIF orientation policy, for every place a pixel goes (datasets, evaluation, grids,
 * Grad-CAM, predictImage, the exported web page). A phone stores a portrait photo as landscape
 * pixels plus an EXIF tag "rotate 90°". Keras ignores the tag: `tf.io.decode_image`
 * (image_dataset_from_directory) and PIL's `load_img` (flow_from_directory) hand the model the
 * pixels as stored. So does this library by default, and every display shows those same pixels,
 * so what a user looks at is what the model saw. `setExifTranspose(true)` (or NB_EXIF_TRANSPOSE=1)
 * applies the tag everywhere instead, like PIL's `ImageOps.exif_transpose`: a model trained that
 * way sees photos upright, but is no longer fed what Keras would feed it.
 */
let exifTransposeSetting: boolean | null = null;

/** Apply EXIF orientation from now on (true), or use pixels as stored, as Keras (false, the default). */
export function setExifTranspose(on: boolean): void {
  exifTransposeSetting = !!on;
}

/** The EXIF policy in force: setExifTranspose's value, else NB_EXIF_TRANSPOSE=1, else false (Keras). */
export function exifTranspose(): boolean {
  return exifTransposeSetting ?? process.env.NB_EXIF_TRANSPOSE === '1';
}

export interface DecodeOptions {
  /** Apply the EXIF orientation tag (default: the policy in force, see exifTranspose()). */
  exifTranspose?: boolean;
}

/**
 * An image file as a sharp pipeline of the decoded RGB pixels, under the EXIF policy: what grids
 * and thumbnails draw, so they show exactly the pixels the model is given.
 */
export async function sharpOfImageFile(file: string, opts: DecodeOptions = {}): Promise<Sharp> {
  const img = await decodeImageFile(file, opts);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** Decode any supported image file to RGB bytes (alpha dropped, grey expanded, first GIF frame). */
export async function decodeImageFile(file: string, opts: DecodeOptions = {}): Promise<DecodedRgb> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (e) {
    throw new Error(
      `Cannot read image ${file}: ${(e as Error).message}. Check that the file exists and is readable.`,
    );
  }
  try {
    return await decodeImageBuffer(buf, opts);
  } catch (e) {
    // `reason` without the advice, for onCorrupt: 'skip', which has already taken it.
    if ((e as { tooLarge?: boolean }).tooLarge)
      throw Object.assign(
        new Error(
          `Image ${file} is too large: ${(e as Error).message}, or delete it (onCorrupt: 'skip' skips it).`,
        ),
        { reason: 'too large' },
      );
    const reason = (e as Error).message.split('\n')[0];
    throw Object.assign(
      new Error(
        `Cannot decode image ${file} (${reason}). ` +
          `The file is corrupt or not an image: replace or delete it, or pass onCorrupt: 'skip'.`,
      ),
      { reason: `corrupt or not an image: ${reason}` },
    );
  }
}

export async function decodeImageBuffer(
  buf: Uint8Array,
  opts: DecodeOptions = {},
): Promise<DecodedRgb> {
  if (isNetpbm(buf)) {
    const { width, height } = netpbmSize(buf);
    checkPixels(width, height);
    return decodeNetpbm(buf);
  }
  if (isBmp(buf)) {
    const { width, height } = bmpSize(buf);
    checkPixels(width, height);
    return decodeBmp(buf);
  }
  // The header says the size before anything is decoded.
  const meta = await sharp(buf, { failOn: 'error', limitInputPixels: false }).metadata();
  checkPixels(meta.width ?? 0, meta.height ?? 0);
  // removeAlpha drops alpha without compositing, like PIL's convert('RGB') in Keras' load_img.
  let pipeline = sharp(buf, { failOn: 'error', limitInputPixels: maxImagePixels() });
  // sharp, like tf.io.decode_image and PIL, ignores the EXIF tag unless asked to rotate.
  if (opts.exifTranspose ?? exifTranspose()) pipeline = pipeline.rotate();
  const { data, info } = await pipeline
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 3)
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
    };
  // Defensive: expand 1-channel output to RGB.
  const rgb = new Uint8Array(info.width * info.height * 3);
  for (let p = 0; p < info.width * info.height; p++) {
    const v = data[p * info.channels];
    rgb[3 * p] = v;
    rgb[3 * p + 1] = v;
    rgb[3 * p + 2] = v;
  }
  return { data: rgb, width: info.width, height: info.height };
}

/** The centred crop window with the target's aspect ratio (Keras `crop_to_aspect_ratio`). */
function cropWindow(h: number, w: number, outH: number, outW: number) {
  const cropH = Math.min(h, Math.floor((w * outH) / outW));
  const cropW = Math.min(w, Math.floor((h * outW) / outH));
  return { y0: Math.floor((h - cropH) / 2), x0: Math.floor((w - cropW) / 2), h: cropH, w: cropW };
}

/**
 * Resize RGB bytes to [outH, outW] float32 0..255, tf.image.resize-style (half-pixel centres).
 * A source window (crop) may be given; the default is the whole image.
 */
export function resizeRgb(
  src: ArrayLike<number>,
  srcH: number,
  srcW: number,
  outH: number,
  outW: number,
  method: 'bilinear' | 'nearest',
  win = { y0: 0, x0: 0, h: srcH, w: srcW },
): Float32Array {
  const out = new Float32Array(outH * outW * 3);
  const sy = win.h / outH,
    sx = win.w / outW;
  if (method === 'nearest') {
    const xs = new Int32Array(outW);
    for (let x = 0; x < outW; x++) xs[x] = win.x0 + Math.min(Math.floor((x + 0.5) * sx), win.w - 1);
    for (let y = 0; y < outH; y++) {
      const iy = win.y0 + Math.min(Math.floor((y + 0.5) * sy), win.h - 1);
      for (let x = 0; x < outW; x++) {
        const s = (iy * srcW + xs[x]) * 3,
          d = (y * outW + x) * 3;
        out[d] = src[s];
        out[d + 1] = src[s + 1];
        out[d + 2] = src[s + 2];
      }
    }
    return out;
  }
  // Bilinear: precompute the two source columns and weights of each output column.
  const x0s = new Int32Array(outW),
    x1s = new Int32Array(outW),
    fxs = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.max(0, (x + 0.5) * sx - 0.5);
    const x0 = Math.min(Math.floor(fx), win.w - 1);
    x0s[x] = (win.x0 + x0) * 3;
    x1s[x] = (win.x0 + Math.min(x0 + 1, win.w - 1)) * 3;
    fxs[x] = fx - x0;
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), win.h - 1);
    const y1 = Math.min(y0 + 1, win.h - 1);
    const wy = fy - y0;
    const r0 = (win.y0 + y0) * srcW * 3,
      r1 = (win.y0 + y1) * srcW * 3;
    for (let x = 0; x < outW; x++) {
      const wx = fxs[x],
        a = r0 + x0s[x],
        b = r0 + x1s[x],
        c = r1 + x0s[x],
        e = r1 + x1s[x];
      const d = (y * outW + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = src[a + k] + (src[b + k] - src[a + k]) * wx;
        const bot = src[c + k] + (src[e + k] - src[c + k]) * wx;
        out[d + k] = top + (bot - top) * wy;
      }
    }
  }
  return out;
}

export interface LoadImageOptions extends DecodeOptions {
  /** [height, width]; omit to keep the original size. */
  imageSize?: ImageSize | null;
  interpolation?: Interpolation;
  /** Centre-crop to the target aspect ratio before resizing instead of stretching (Keras `crop_to_aspect_ratio`). */
  cropToAspectRatio?: boolean;
}

/** Decode and resize one file to float32 RGB 0..255. */
export async function loadImageFile(file: string, opts: LoadImageOptions = {}): Promise<RawImage> {
  return resizeDecoded(await decodeImageFile(file, opts), opts);
}

export async function resizeDecoded(
  img: DecodedRgb,
  opts: LoadImageOptions = {},
): Promise<RawImage> {
  const { imageSize, interpolation = 'bilinear', cropToAspectRatio = false } = opts;
  if (!imageSize)
    return { data: Float32Array.from(img.data), height: img.height, width: img.width };
  const [outH, outW] = imageSize;
  const win = cropToAspectRatio
    ? cropWindow(img.height, img.width, outH, outW)
    : { y0: 0, x0: 0, h: img.height, w: img.width };
  if (interpolation === 'bilinear' || interpolation === 'nearest') {
    return {
      data: resizeRgb(img.data, img.height, img.width, outH, outW, interpolation, win),
      height: outH,
      width: outW,
    };
  }
  const kernel = interpolation === 'bicubic' ? 'cubic' : interpolation;
  if (!['cubic', 'lanczos3', 'mitchell'].includes(kernel)) {
    throw new Error(
      `Unknown interpolation '${interpolation}': use 'bilinear', 'nearest', 'bicubic', 'lanczos3' or 'mitchell'.`,
    );
  }
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left: win.x0, top: win.y0, width: win.w, height: win.h })
    .resize(outW, outH, { fit: 'fill', kernel: kernel as 'cubic' | 'lanczos3' | 'mitchell' })
    .raw()
    .toBuffer();
  return { data: Float32Array.from(data), height: outH, width: outW };
}

/** Run `fn` over `items` with at most `concurrency` in flight; results keep the input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker),
  );
  return out;
}

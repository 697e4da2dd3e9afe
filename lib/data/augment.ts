// ImageDataGenerator: Keras' legacy augmentation, same parameter names and semantics, on Float32Array
// images (HWC, RGB). Draws come from a seeded PRNG so an epoch's augmentation is reproducible.
//
// Order (as in Keras' apply_transform + standardize): affine warp (rotation, shift, shear, zoom),
// channel shift, horizontal/vertical flip, brightness, then preprocessingFunction, then rescale.
import type { RawImage } from './decode';
import type { FlowFromDirectoryOptions } from './directory';
import type { ImageDataset } from './types';
import type { DatasetAugmentation } from './dataset';
import { uniform, type Rng } from '../rng';
// A static import (tslab cannot resolve a lazy require of a .ts file); directory.ts needs this module only for types.
import { flowFromDirectory as flowFromDirectoryImpl } from './directory';
import { hashString } from '../rng';

export type FillMode = 'reflect' | 'nearest' | 'constant' | 'wrap';

export interface ImageDataGeneratorOptions {
  /** Degrees: θ ~ U(-r, r). */
  rotationRange?: number;
  /** < 1: fraction of the width; >= 1: pixels; an array: one of its values with a random sign. */
  widthShiftRange?: number | readonly number[];
  /** Same as widthShiftRange, vertically. */
  heightShiftRange?: number | readonly number[];
  /** Shear angle in degrees: s ~ U(-r, r). */
  shearRange?: number;
  /** A number z means [1 - z, 1 + z]; zx and zy are drawn independently. */
  zoomRange?: number | readonly [number, number];
  /** Multiply pixels by u ~ U(lo, hi), clipped to 0..255. */
  brightnessRange?: readonly [number, number] | null;
  /** Add one value ~ U(-r, r) to every channel, clipped to the image's min/max. */
  channelShiftRange?: number;
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  fillMode?: FillMode;
  /** Fill value for fillMode 'constant'. */
  cval?: number;
  /** Multiply after everything else (e.g. 1/255). */
  rescale?: number | null;
  /** Runs on each augmented image (before rescale), as in Keras. */
  preprocessingFunction?: ((img: RawImage) => RawImage | void) | null;
  /** Fraction held out by flowFromDirectory(..., { subset }) (Keras puts it on the generator). */
  validationSplit?: number;
}

/** The random draws for one image (Keras' `get_random_transform` dictionary). */
export interface TransformParams {
  theta: number; // degrees
  tx: number; // horizontal shift, pixels (input is sampled at x + tx)
  ty: number; // vertical shift, pixels
  shear: number; // degrees
  zx: number;
  zy: number;
  flipHorizontal: boolean;
  flipVertical: boolean;
  channelShiftIntensity: number | null;
  brightness: number | null;
}

export const IDENTITY_TRANSFORM: TransformParams = {
  theta: 0,
  tx: 0,
  ty: 0,
  shear: 0,
  zx: 1,
  zy: 1,
  flipHorizontal: false,
  flipVertical: false,
  channelShiftIntensity: null,
  brightness: null,
};

export class ImageDataGenerator implements DatasetAugmentation {
  readonly options: Readonly<Required<Omit<ImageDataGeneratorOptions, 'zoomRange'>>> & {
    zoomRange: [number, number];
  };

  constructor(opts: ImageDataGeneratorOptions = {}) {
    const z = opts.zoomRange ?? 0;
    const zoomRange: [number, number] = typeof z === 'number' ? [1 - z, 1 + z] : [z[0], z[1]];
    if (
      !(zoomRange[0] > 0 && zoomRange[1] >= zoomRange[0]) &&
      !(zoomRange[0] === 1 && zoomRange[1] === 1)
    ) {
      throw new Error(
        `ImageDataGenerator: zoomRange ${JSON.stringify(z)} must give 0 < lo <= hi (a number below 1, or [lo, hi]).`,
      );
    }
    const br = opts.brightnessRange ?? null;
    if (br && (br.length !== 2 || !(br[0] <= br[1]))) {
      throw new Error(
        `ImageDataGenerator: brightnessRange must be [lo, hi] with lo <= hi, got ${JSON.stringify(br)}.`,
      );
    }
    const fillMode = opts.fillMode ?? 'nearest';
    if (!['reflect', 'nearest', 'constant', 'wrap'].includes(fillMode)) {
      throw new Error(
        `ImageDataGenerator: fillMode '${fillMode}' must be 'reflect', 'nearest', 'constant' or 'wrap'.`,
      );
    }
    this.options = {
      rotationRange: opts.rotationRange ?? 0,
      widthShiftRange: opts.widthShiftRange ?? 0,
      heightShiftRange: opts.heightShiftRange ?? 0,
      shearRange: opts.shearRange ?? 0,
      zoomRange,
      brightnessRange: br,
      channelShiftRange: opts.channelShiftRange ?? 0,
      horizontalFlip: opts.horizontalFlip ?? false,
      verticalFlip: opts.verticalFlip ?? false,
      fillMode,
      cval: opts.cval ?? 0,
      rescale: opts.rescale ?? null,
      preprocessingFunction: opts.preprocessingFunction ?? null,
      validationSplit: opts.validationSplit ?? 0,
    };
  }

  /** Keras `datagen.flow_from_directory(dir, ...)`: a folder dataset augmented by this generator. */
  flowFromDirectory(dir: string, opts: FlowFromDirectoryOptions = {}): ImageDataset {
    return flowFromDirectoryImpl(dir, {
      ...opts,
      augment: this,
      validationSplit: opts.validationSplit ?? (this.options.validationSplit || null),
    });
  }

  /** True when some parameter draws random transforms (not just rescale/preprocessing). */
  get isRandom(): boolean {
    const o = this.options;
    return !!(
      o.rotationRange ||
      nonZeroRange(o.widthShiftRange) ||
      nonZeroRange(o.heightShiftRange) ||
      o.shearRange ||
      o.zoomRange[0] !== 1 ||
      o.zoomRange[1] !== 1 ||
      o.brightnessRange ||
      o.channelShiftRange ||
      o.horizontalFlip ||
      o.verticalFlip
    );
  }

  /** The same rescale and preprocessingFunction without random transforms (for validation/evaluation). */
  standardizeOnly(): ImageDataGenerator {
    return new ImageDataGenerator({
      rescale: this.options.rescale,
      preprocessingFunction: this.options.preprocessingFunction,
    });
  }

  /** A stable description of every parameter (for dataset cache keys). */
  describe(): string {
    const o = this.options;
    return JSON.stringify({
      ...o,
      validationSplit: undefined,
      preprocessingFunction: o.preprocessingFunction
        ? hashString(o.preprocessingFunction.toString())
        : null,
    });
  }

  /** Draw one image's parameters (Keras `get_random_transform`). */
  getRandomTransform(height: number, width: number, rng: Rng): TransformParams {
    const o = this.options;
    const p: TransformParams = { ...IDENTITY_TRANSFORM };
    if (o.rotationRange) p.theta = uniform(rng, -o.rotationRange, o.rotationRange);
    p.ty = drawShift(o.heightShiftRange, height, rng);
    p.tx = drawShift(o.widthShiftRange, width, rng);
    if (o.shearRange) p.shear = uniform(rng, -o.shearRange, o.shearRange);
    const [zlo, zhi] = o.zoomRange;
    if (zlo !== 1 || zhi !== 1) {
      p.zx = uniform(rng, zlo, zhi);
      p.zy = uniform(rng, zlo, zhi);
    }
    p.flipHorizontal = o.horizontalFlip && rng() < 0.5;
    p.flipVertical = o.verticalFlip && rng() < 0.5;
    if (o.channelShiftRange)
      p.channelShiftIntensity = uniform(rng, -o.channelShiftRange, o.channelShiftRange);
    if (o.brightnessRange) p.brightness = uniform(rng, o.brightnessRange[0], o.brightnessRange[1]);
    return p;
  }

  /** Apply drawn parameters (Keras `apply_transform`). Returns a new image. */
  applyTransform(img: RawImage, p: TransformParams): RawImage {
    const o = this.options;
    let out = img;
    const m = affineMatrix(p, img.height, img.width);
    if (m)
      out = { ...img, data: warpAffine(img.data, img.height, img.width, m, o.fillMode, o.cval) };
    if (p.channelShiftIntensity !== null)
      out = { ...out, data: channelShift(out.data, p.channelShiftIntensity) };
    if (p.flipHorizontal)
      out = { ...out, data: flip(out.data, out.height, out.width, 'horizontal') };
    if (p.flipVertical) out = { ...out, data: flip(out.data, out.height, out.width, 'vertical') };
    if (p.brightness !== null) out = { ...out, data: brightnessShift(out.data, p.brightness) };
    return out === img ? { ...img, data: img.data.slice() } : out;
  }

  /** preprocessingFunction then rescale (Keras `standardize`, the parts that apply per image). */
  standardize(img: RawImage): RawImage {
    const o = this.options;
    let out = img;
    if (o.preprocessingFunction) {
      // A function may return a new image or modify the one it is given in place.
      const res = o.preprocessingFunction(out);
      if (res) out = res;
    }
    if (o.rescale !== null && o.rescale !== 1) {
      const d = out.data,
        r = o.rescale;
      for (let i = 0; i < d.length; i++) d[i] *= r;
    }
    return out;
  }

  /** Draw, apply and standardize: one augmented image. */
  randomTransform(img: RawImage, rng: Rng): RawImage {
    return this.standardize(
      this.applyTransform(img, this.getRandomTransform(img.height, img.width, rng)),
    );
  }
}

function nonZeroRange(r: number | readonly number[]): boolean {
  return typeof r === 'number' ? r !== 0 : r.some((v) => v !== 0);
}

/** Keras: an array picks one value with a random sign; a number draws U(-r, r); below 1 it is a fraction of the size. */
function drawShift(range: number | readonly number[], size: number, rng: Rng): number {
  if (!nonZeroRange(range)) return 0;
  let t: number;
  let maxAbs: number;
  if (typeof range === 'number') {
    t = uniform(rng, -range, range);
    maxAbs = range;
  } else {
    t = range[Math.floor(rng() * range.length)] * (rng() < 0.5 ? -1 : 1);
    maxAbs = Math.max(...range);
  }
  return maxAbs < 1 ? t * size : t;
}

/**
 * The output→input map [a, b, c, d, e, f]: x_in = a·x + b·y + c, y_in = d·x + e·y + f, in pixel
 * coordinates (x = column, y = row). Keras' M = R·T·Sh·Z about the image centre (w/2−0.5, h/2−0.5),
 * with R = [[cos θ, −sin θ], [sin θ, cos θ]], Sh = [[1, −sin s], [0, cos s]], Z = diag(zx, zy).
 * Two deliberate differences from tf.keras' code: there the shift drawn from heightShiftRange moves
 * the image sideways (keras-team/keras#17398) and the centre uses (h, w) swapped; here widthShiftRange
 * moves horizontally as documented, and the centre is right for non-square images. For square images
 * and shift-free transforms the result is identical. Returns null for the identity.
 */
export function affineMatrix(p: TransformParams, height: number, width: number): number[] | null {
  if (p.theta === 0 && p.tx === 0 && p.ty === 0 && p.shear === 0 && p.zx === 1 && p.zy === 1)
    return null;
  const t = (p.theta * Math.PI) / 180,
    s = (p.shear * Math.PI) / 180;
  // 2x3 matrices composed left to right: R · T · Sh · Z.
  let m = [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0];
  m = mul(m, [1, 0, p.tx, 0, 1, p.ty]);
  m = mul(m, [1, -Math.sin(s), 0, 0, Math.cos(s), 0]);
  m = mul(m, [p.zx, 0, 0, 0, p.zy, 0]);
  const ox = width / 2 - 0.5,
    oy = height / 2 - 0.5;
  m = mul(mul([1, 0, ox, 0, 1, oy], m), [1, 0, -ox, 0, 1, -oy]);
  return m;
}

function mul(a: number[], b: number[]): number[] {
  return [
    a[0] * b[0] + a[1] * b[3],
    a[0] * b[1] + a[1] * b[4],
    a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3],
    a[3] * b[1] + a[4] * b[4],
    a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}

/** Map an integer index outside [0, n) back inside, per fill mode; -1 means "use cval". */
function mapIndex(i: number, n: number, mode: FillMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'nearest':
      return i < 0 ? 0 : n - 1;
    case 'wrap':
      return ((i % n) + n) % n;
    case 'reflect': {
      // d c b a | a b c d | d c b a
      const period = 2 * n;
      let k = ((i % period) + period) % period;
      if (k >= n) k = period - 1 - k;
      return k;
    }
    default:
      return -1;
  }
}

/**
 * Bilinear warp with an output→input matrix (scipy.ndimage.affine_transform, order=1). For
 * 'constant', a sample whose input coordinate lies outside [0, n−1] is cval (no interpolation
 * beyond the edge, as scipy's 'constant' mode).
 */
export function warpAffine(
  src: Float32Array,
  h: number,
  w: number,
  m: number[],
  mode: FillMode,
  cval: number,
): Float32Array {
  const out = new Float32Array(h * w * 3);
  const eps = 1e-6;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const xi = m[0] * x + m[1] * y + m[2];
      const yi = m[3] * x + m[4] * y + m[5];
      const d = (y * w + x) * 3;
      if (mode === 'constant' && (xi < -eps || yi < -eps || xi > w - 1 + eps || yi > h - 1 + eps)) {
        out[d] = cval;
        out[d + 1] = cval;
        out[d + 2] = cval;
        continue;
      }
      const x0 = Math.floor(xi),
        y0 = Math.floor(yi);
      const fx = xi - x0,
        fy = yi - y0;
      let ax = mapIndex(x0, w, mode),
        bx = mapIndex(x0 + 1, w, mode);
      let ay = mapIndex(y0, h, mode),
        by = mapIndex(y0 + 1, h, mode);
      // 'constant' inside the edge tolerance: clamp (the weight of the far sample is ~0).
      if (ax < 0) ax = Math.min(Math.max(x0, 0), w - 1);
      if (bx < 0) bx = Math.min(Math.max(x0 + 1, 0), w - 1);
      if (ay < 0) ay = Math.min(Math.max(y0, 0), h - 1);
      if (by < 0) by = Math.min(Math.max(y0 + 1, 0), h - 1);
      const p00 = (ay * w + ax) * 3,
        p01 = (ay * w + bx) * 3,
        p10 = (by * w + ax) * 3,
        p11 = (by * w + bx) * 3;
      const w00 = (1 - fx) * (1 - fy),
        w01 = fx * (1 - fy),
        w10 = (1 - fx) * fy,
        w11 = fx * fy;
      for (let c = 0; c < 3; c++) {
        out[d + c] =
          src[p00 + c] * w00 + src[p01 + c] * w01 + src[p10 + c] * w10 + src[p11 + c] * w11;
      }
    }
  }
  return out;
}

/** Keras apply_channel_shift: add one value to all channels, clip to the image's own min/max. */
export function channelShift(src: Float32Array, intensity: number): Float32Array {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < src.length; i++) {
    if (src[i] < lo) lo = src[i];
    if (src[i] > hi) hi = src[i];
  }
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.min(hi, Math.max(lo, src[i] + intensity));
  return out;
}

/** Brightness: x·u clipped to 0..255 (PIL's ImageEnhance.Brightness as Keras uses it). */
export function brightnessShift(src: Float32Array, u: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.min(255, Math.max(0, src[i] * u));
  return out;
}

export function flip(
  src: Float32Array,
  h: number,
  w: number,
  axis: 'horizontal' | 'vertical',
): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = axis === 'vertical' ? h - 1 - y : y,
        sx = axis === 'horizontal' ? w - 1 - x : x;
      const s = (sy * w + sx) * 3,
        d = (y * w + x) * 3;
      out[d] = src[s];
      out[d + 1] = src[s + 1];
      out[d + 2] = src[s + 2];
    }
  }
  return out;
}

/** A short stable hash of a string (for cache keys). */

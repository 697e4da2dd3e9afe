// Each transform against pixel values computed by hand on tiny images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ImageDataGenerator,
  IDENTITY_TRANSFORM,
  type TransformParams,
} from '../../lib/data/augment';
import type { RawImage } from '../../lib/data/decode';
import { rngFor } from '../../lib/rng';

/** A grey image (same value in R, G, B) from rows of numbers. */
function grey(rows: number[][]): RawImage {
  const h = rows.length,
    w = rows[0].length;
  const data = new Float32Array(h * w * 3);
  rows.forEach((r, y) => r.forEach((v, x) => data.fill(v, (y * w + x) * 3, (y * w + x) * 3 + 3)));
  return { data, height: h, width: w };
}
/** Channel 0 of an image as rows. */
function rowsOf(img: RawImage): number[][] {
  return Array.from({ length: img.height }, (_, y) =>
    Array.from({ length: img.width }, (_, x) => img.data[(y * img.width + x) * 3]),
  );
}
function close(actual: number[][], expected: number[][], tol = 1e-4) {
  assert.equal(actual.length, expected.length);
  actual.forEach((r, y) =>
    r.forEach((v, x) =>
      assert.ok(
        Math.abs(v - expected[y][x]) <= tol,
        `pixel (${y},${x}) = ${v}, expected ${expected[y][x]}\n${JSON.stringify(actual)}`,
      ),
    ),
  );
}
const P = (p: Partial<TransformParams>): TransformParams => ({ ...IDENTITY_TRANSFORM, ...p });
const G33 = grey([
  [0, 1, 2],
  [10, 11, 12],
  [20, 21, 22],
]);

test('rotation by 90 degrees about the centre (Keras R matrix, output->input)', () => {
  const out = new ImageDataGenerator().applyTransform(G33, P({ theta: 90 }));
  // x_in = 2 - y, y_in = x  =>  out[r][c] = in[c][2 - r]
  close(rowsOf(out), [
    [2, 12, 22],
    [1, 11, 21],
    [0, 10, 20],
  ]);
});

test('horizontal shift with each fill mode', () => {
  const row = grey([[0, 10, 20, 30]]);
  const shift = (fillMode: 'nearest' | 'reflect' | 'wrap' | 'constant', tx: number) =>
    rowsOf(new ImageDataGenerator({ fillMode, cval: -1 }).applyTransform(row, P({ tx })))[0];
  assert.deepEqual(shift('nearest', 2), [20, 30, 30, 30]);
  assert.deepEqual(shift('reflect', 2), [20, 30, 30, 20]); // d c b a | a b c d
  assert.deepEqual(shift('wrap', 2), [20, 30, 0, 10]);
  assert.deepEqual(shift('constant', 2), [20, 30, -1, -1]);
  assert.deepEqual(shift('reflect', -3), [20, 10, 0, 0]);
  // half a pixel: bilinear between neighbours
  assert.deepEqual(shift('nearest', 0.5), [5, 15, 25, 30]);
});

test('vertical shift moves rows (heightShiftRange is vertical)', () => {
  const col = grey([[0], [10], [20]]);
  close(rowsOf(new ImageDataGenerator().applyTransform(col, P({ ty: 1 }))), [[10], [20], [20]]);
});

test('zoom: zx = 2 samples twice as far from the centre', () => {
  const row = grey([[0, 10, 20, 30, 40]]);
  // centre 2: x_in = 2 * (x - 2) + 2
  close(rowsOf(new ImageDataGenerator().applyTransform(row, P({ zx: 2 }))), [[0, 0, 20, 40, 40]]);
  close(rowsOf(new ImageDataGenerator().applyTransform(row, P({ zx: 0.5 }))), [
    [10, 15, 20, 25, 30],
  ]);
});

test('shear in degrees: x_in = x - sin(s) y, y_in = cos(s) y about the centre', () => {
  // The image is linear (v = 10 y + x), so bilinear sampling returns exactly 10 y_in + x_in.
  const s = (30 * Math.PI) / 180;
  const out = new ImageDataGenerator().applyTransform(G33, P({ shear: 30 }));
  const expected = [0, 1, 2].map((y) =>
    [0, 1, 2].map((x) => {
      const xi = 1 + (x - 1) - Math.sin(s) * (y - 1),
        yi = 1 + Math.cos(s) * (y - 1);
      return 10 * yi + Math.min(2, Math.max(0, xi));
    }),
  );
  close(rowsOf(out), expected);
  assert.ok(Math.abs(rowsOf(out)[0][0] - 1.8397) < 1e-3); // 10 * (1 - cos 30) + 0.5
});

test('composition order is R . T (shift applied in the rotated frame)', () => {
  // x_in = 2 - y, y_in = x + 1 (clamped by 'nearest')
  const out = new ImageDataGenerator().applyTransform(G33, P({ theta: 90, tx: 1 }));
  close(rowsOf(out), [
    [12, 22, 22],
    [11, 21, 21],
    [10, 20, 20],
  ]);
});

test('flips, channel shift (clipped to the image min/max) and brightness (clipped to 0..255)', () => {
  const g = new ImageDataGenerator();
  close(
    rowsOf(
      g.applyTransform(
        grey([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        P({ flipHorizontal: true }),
      ),
    ),
    [
      [3, 2, 1],
      [6, 5, 4],
    ],
  );
  close(
    rowsOf(
      g.applyTransform(
        grey([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        P({ flipVertical: true }),
      ),
    ),
    [
      [4, 5, 6],
      [1, 2, 3],
    ],
  );
  const px: RawImage = { data: Float32Array.from([10, 50, 100]), height: 1, width: 1 };
  assert.deepEqual(
    Array.from(g.applyTransform(px, P({ channelShiftIntensity: 20 })).data),
    [30, 70, 100],
  );
  assert.deepEqual(
    Array.from(g.applyTransform(px, P({ channelShiftIntensity: -45 })).data),
    [10, 10, 55],
  );
  const b: RawImage = { data: Float32Array.from([100, 200, 0]), height: 1, width: 1 };
  assert.deepEqual(Array.from(g.applyTransform(b, P({ brightness: 1.5 })).data), [150, 255, 0]);
});

test('preprocessingFunction runs before rescale, after augmentation', () => {
  let seen = -1;
  const g = new ImageDataGenerator({
    rescale: 0.5,
    preprocessingFunction: (img) => {
      seen = img.data[0];
      img.data[0] += 1;
    },
  });
  const out = g.standardize(g.applyTransform(grey([[4]]), P({ brightness: 2 })));
  assert.equal(seen, 8);
  assert.equal(out.data[0], 4.5);
});

test('random draws follow Keras ranges and are deterministic per (seed, epoch, index)', () => {
  const g = new ImageDataGenerator({
    rotationRange: 20,
    widthShiftRange: 0.1,
    heightShiftRange: [3],
    zoomRange: 0.2,
    shearRange: 5,
    brightnessRange: [0.5, 1.5],
    channelShiftRange: 10,
    horizontalFlip: true,
  });
  let flips = 0;
  for (let i = 0; i < 400; i++) {
    const p = g.getRandomTransform(50, 100, rngFor(7, 0, i));
    assert.ok(Math.abs(p.theta) <= 20 && Math.abs(p.shear) <= 5);
    assert.ok(Math.abs(p.tx) <= 10, `tx ${p.tx} is a fraction of the width 100`);
    assert.ok(
      Math.abs(p.ty) === 3,
      'an array range picks one of its values with a random sign (pixels)',
    );
    assert.ok(p.zx >= 0.8 && p.zx <= 1.2 && p.zy >= 0.8 && p.zy <= 1.2 && p.zx !== p.zy);
    assert.ok(
      p.brightness! >= 0.5 && p.brightness! <= 1.5 && Math.abs(p.channelShiftIntensity!) <= 10,
    );
    if (p.flipHorizontal) flips++;
    assert.equal(p.flipVertical, false);
  }
  assert.ok(flips > 150 && flips < 250, `about half flipped, got ${flips}`);
  assert.deepEqual(
    g.getRandomTransform(50, 100, rngFor(7, 3, 5)),
    g.getRandomTransform(50, 100, rngFor(7, 3, 5)),
  );
  assert.notDeepEqual(
    g.getRandomTransform(50, 100, rngFor(7, 3, 5)),
    g.getRandomTransform(50, 100, rngFor(7, 4, 5)),
  );
  assert.deepEqual(new ImageDataGenerator({ zoomRange: [0.9, 1.3] }).options.zoomRange, [0.9, 1.3]);
  assert.equal(new ImageDataGenerator({ rescale: 1 / 255 }).isRandom, false);
  assert.equal(g.isRandom, true);
  assert.throws(() => new ImageDataGenerator({ fillMode: 'mirror' as never }), /fillMode/);
});

test('options straight from an `as const` config (readonly ranges) draw the same transforms as plain arrays', () => {
  const cfg = {
    augmentation: {
      widthShiftRange: [2, 4],
      heightShiftRange: 0.1,
      zoomRange: [0.9, 1.1],
      brightnessRange: [0.85, 1.15],
    },
  } as const;
  const fromConfig = new ImageDataGenerator(cfg.augmentation);
  const plain = new ImageDataGenerator({
    widthShiftRange: [2, 4],
    heightShiftRange: 0.1,
    zoomRange: [0.9, 1.1],
    brightnessRange: [0.85, 1.15],
  });
  for (let i = 0; i < 20; i++)
    assert.deepEqual(
      fromConfig.getRandomTransform(50, 100, rngFor(3, 0, i)),
      plain.getRandomTransform(50, 100, rngFor(3, 0, i)),
    );
  assert.ok(
    [2, 4].includes(Math.abs(fromConfig.getRandomTransform(50, 100, rngFor(3, 0, 1)).tx)),
    'a readonly array range still picks one of its values',
  );
});

test('previewAugmentation: original + n variants in a PNG grid, reproducible', async () => {
  const { previewAugmentation } = await import('../../lib/data/preview');
  const { tmpDir } = await import('../helpers');
  const { writeSolid } = await import('./fixtures');
  const sharp = (await import('sharp')).default;
  const file = `${tmpDir('preview-')}/x.png`;
  await writeSolid(file, [200, 100, 50], 10, 8);
  const g = new ImageDataGenerator({ brightnessRange: [0.5, 0.5] });
  const r = await previewAugmentation(file, g, {
    n: 3,
    columns: 2,
    gap: 1,
    tileSize: 1,
    show: false,
  });
  assert.equal(r.images.length, 4);
  assert.deepEqual(Array.from(r.images[1].data.slice(0, 3)), [100, 50, 25]);
  const meta = await sharp(r.png).metadata();
  assert.deepEqual([meta.width, meta.height], [21, 17]);
  const again = await previewAugmentation(file, g, {
    n: 3,
    columns: 2,
    gap: 1,
    tileSize: 1,
    show: false,
  });
  assert.deepEqual(again.png, r.png);
});

// The augmentation preview (issue 23, point 5): large enough to read, and augmentations that keep
// the label. On the generated stand-in a horizontal flip turns the "2" glyph into a "5", so
// labelSafeAugmentation switches it off there, and its sentence says so; real car photos keep it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { labelSafeAugmentation } from '../../lib/data/label-safe';
import { makeSyntheticSigns, mirroredGlyph, syntheticClass } from '../../lib/data/synthetic';
import { ImageDataGenerator } from '../../lib/data/augment';
import { previewAugmentation } from '../../lib/data/preview';
import { tmpDir } from '../helpers';
import { writeSolid } from '../data/fixtures';

test('mirroredGlyph: computed from the strokes (2 ↔ 5, 0 and 8 symmetric, a mirrored 3 is no glyph)', () => {
  assert.equal(mirroredGlyph('2', 'horizontal'), '5');
  assert.equal(mirroredGlyph('5', 'horizontal'), '2');
  for (const g of ['0', '8', 'arrow', 'bar', 'cross'])
    assert.equal(mirroredGlyph(g, 'horizontal'), g);
  for (const g of ['1', '3', '4', '6', '7', '9'])
    assert.equal(mirroredGlyph(g, 'horizontal'), null);
  // Top ↔ bottom: a 3 is symmetric, an arrow turns round.
  assert.equal(mirroredGlyph('3', 'vertical'), '3');
  assert.equal(mirroredGlyph('arrow', 'vertical'), null);
});

/** A generated Stanford Cars stand-in with `classes` classes, one image each. */
async function generated(classes: number) {
  const s = await makeSyntheticSigns(path.join(tmpDir('label-safe-'), 'cars'), {
    classes,
    trainPerClass: 1,
    validPerClass: 1,
    testPerClass: 1,
    size: 16,
    layout: 'cars',
  });
  return { source: 'synthetic' as const, dataset: 'cars' as const, trainDir: s.trainDir };
}

const REQUESTED = { horizontalFlip: true, rotationRange: 8, zoomRange: [0.9, 1.1] as const };

test('labelSafeAugmentation: the generated data loses the flip, with a computed sentence', async () => {
  const data = await generated(12);
  const glyphs = Array.from({ length: 12 }, (_, k) => syntheticClass(k).glyph);
  assert.ok(glyphs.includes('2') && glyphs.includes('5'), 'the 12-class stand-in has a 2 and a 5');
  const r = labelSafeAugmentation(REQUESTED, data);
  assert.equal(r.options.horizontalFlip, false);
  assert.equal(r.options.rotationRange, 8, 'the other transforms are kept');
  assert.deepEqual(r.dropped, ['horizontalFlip']);
  const changed = glyphs.filter((g) => mirroredGlyph(g, 'horizontal') !== g).length;
  assert.equal(
    r.note,
    `Horizontal flip is off on the generated data: mirrored, ${changed} of its 12 classes change ` +
      '(2 and 5 swap; 1, 3, 4, 6, 7 and 9 become symbols no class has), so a flipped image would ' +
      'carry a wrong label. With real photos (CARS_DIR) the setting applies as written.',
  );
  assert.equal(REQUESTED.horizontalFlip, true, 'the request itself is not changed');

  // Two classes: class 0 carries a 0 (symmetric), class 1 a 3 (mirrored, no glyph): one changes.
  const two = labelSafeAugmentation(REQUESTED, await generated(2));
  assert.match(two.note, /1 of its 2 classes changes \(3 becomes a symbol no class has\)/);

  const none = labelSafeAugmentation({ rotationRange: 5 }, data);
  assert.deepEqual(none.dropped, []);
  assert.match(none.note, /No flip is requested/);
});

test('labelSafeAugmentation: real photos keep the requested flip and the sentence says why', () => {
  const cars = labelSafeAugmentation(REQUESTED, {
    source: 'real',
    dataset: 'cars',
    trainDir: '/nonexistent',
  });
  assert.equal(cars.options.horizontalFlip, true);
  assert.equal(
    cars.note,
    'Horizontal flip is on: a mirrored photo of a car shows the same car model.',
  );
  const signs = labelSafeAugmentation(REQUESTED, {
    source: 'real',
    dataset: 'gtsrb',
    trainDir: '/nonexistent',
  });
  assert.equal(signs.options.horizontalFlip, true);
  assert.match(signs.note, /turn left ↔ turn right/);
  assert.throws(
    () =>
      labelSafeAugmentation(REQUESTED, {
        source: 'synthetic',
        dataset: 'cars',
        trainDir: '/nonexistent/train',
      }),
    /labelSafeAugmentation: the training folder \/nonexistent\/train does not exist/,
  );
});

test('previewAugmentation: 64 px images as 128 px tiles in two rows, the sentence returned', async () => {
  const file = path.join(tmpDir('preview-'), 'sign.png');
  await writeSolid(file, [200, 100, 50], 64, 64);
  const gen = new ImageDataGenerator({ rotationRange: 10, brightnessRange: [0.8, 1.2] });
  const r = await previewAugmentation(file, gen, { n: 8, show: false, note: 'a sentence' });
  const meta = await sharp(r.png).metadata();
  // 9 tiles (original + 8): 5 columns × 2 rows of 128 px with 4 px gaps (it was 404 × 132).
  assert.deepEqual([meta.width, meta.height], [5 * 128 + 4 * 4, 2 * 128 + 4]);
  assert.equal(r.note, 'a sentence');
  // Each source pixel is a 2 × 2 block: the grid shows the model's pixels, enlarged.
  const { data } = await sharp(r.png).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) =>
    Array.from(data.subarray((y * meta.width! + x) * 3, (y * meta.width! + x) * 3 + 3));
  assert.deepEqual(px(132 + 40, 40), px(132 + 41, 41));
  // Larger images are not enlarged.
  const big = path.join(path.dirname(file), 'big.png');
  await writeSolid(big, [10, 20, 30], 150, 150);
  const rb = await previewAugmentation(big, gen, { n: 3, show: false });
  assert.deepEqual(
    [(await sharp(rb.png).metadata()).width, (await sharp(rb.png).metadata()).height],
    [4 * 150 + 3 * 4, 150],
  );
  assert.ok(fs.existsSync(file));
});

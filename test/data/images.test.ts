// Image formats Keras reads that sharp does not (BMP), and the pixel limit that keeps a huge image
// from taking gigabytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImageFile, MAX_IMAGE_PIXELS } from '../../lib/data/decode';
import { imageDatasetFromDirectory } from '../../lib/data/directory';
import { writeSolid } from './fixtures';
import { tmpDir } from '../helpers';

const hasPil =
  spawnSync('/usr/bin/python3', ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;

/** A 24-bit bottom-up BMP from RGB bytes (what most tools write). */
function bmp24(w: number, h: number, rgb: number[]): Buffer {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const pixels = Buffer.alloc(stride * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3,
        d = (h - 1 - y) * stride + x * 3;
      pixels[d] = rgb[s + 2];
      pixels[d + 1] = rgb[s + 1];
      pixels[d + 2] = rgb[s];
    }
  }
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'ascii');
  header.writeUInt32LE(54 + pixels.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(w, 18);
  header.writeInt32LE(h, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(pixels.length, 34);
  return Buffer.concat([header, pixels]);
}

test('a 24-bit BMP decodes to its pixels (odd width: rows padded to 4 bytes)', async () => {
  const file = path.join(tmpDir('bmp-'), 'x.bmp');
  const rgb = Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37) % 256);
  fs.writeFileSync(file, bmp24(3, 2, rgb));
  const img = await decodeImageFile(file);
  assert.deepEqual([img.width, img.height], [3, 2]);
  assert.deepEqual(Array.from(img.data), rgb);
});

test(
  'BMP variants PIL writes (1-bit, 8-bit palette and grey, 24-bit, 32-bit) decode to what PIL reads',
  { skip: hasPil ? false : 'needs python3-pil' },
  async () => {
    const dir = tmpDir('bmp-pil-');
    // PIL writes each mode; the reference pixels are PIL's own decode of the file, converted to RGB.
    const py = `
import sys, json
from PIL import Image
d = sys.argv[1]
src = Image.new('RGB', (7, 5))
src.putdata([((x * 40) % 256, (y * 60) % 256, ((x + y) * 25) % 256) for y in range(5) for x in range(7)])
out = {}
for name, img in [('rgb24', src), ('p8', src.convert('P')), ('l8', src.convert('L')), ('bw1', src.convert('1')), ('rgba32', src.convert('RGBA'))]:
    f = f'{d}/{name}.bmp'
    img.save(f)
    out[name] = list(sum(Image.open(f).convert('RGB').getdata(), ()))
json.dump(out, open(f'{d}/expected.json', 'w'))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<
      string,
      number[]
    >;
    for (const [name, pixels] of Object.entries(expected)) {
      const img = await decodeImageFile(path.join(dir, `${name}.bmp`));
      assert.deepEqual([img.width, img.height], [7, 5], name);
      assert.deepEqual(Array.from(img.data), pixels, name);
    }
  },
);

test('a top-down 16-bit BI_BITFIELDS (RGB565) BMP decodes, colours scaled to 0..255', async () => {
  const w = 2,
    h = 2;
  const header = Buffer.alloc(54 + 12);
  header.write('BM', 0, 'ascii');
  header.writeUInt32LE(66, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(w, 18);
  header.writeInt32LE(-h, 22); // negative height: first row on top
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(16, 28);
  header.writeUInt32LE(3, 30); // BI_BITFIELDS
  header.writeUInt32LE(0xf800, 54);
  header.writeUInt32LE(0x07e0, 58);
  header.writeUInt32LE(0x001f, 62);
  const px = Buffer.alloc(w * h * 2);
  [0xf800, 0x07e0, 0x001f, 0xffff].forEach((v, i) => px.writeUInt16LE(v, i * 2)); // red, green, blue, white
  const file = path.join(tmpDir('bmp16-'), 'x.bmp');
  fs.writeFileSync(file, Buffer.concat([header, px]));
  const img = await decodeImageFile(file);
  assert.deepEqual(Array.from(img.data), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
});

test('.bmp files among .png files are loaded by imageDatasetFromDirectory, not skipped', async () => {
  const root = tmpDir('bmp-dir-');
  for (const c of ['a', 'b']) {
    await writeSolid(path.join(root, c, 'one.png'), [10, 20, 30], 4, 4);
    fs.writeFileSync(
      path.join(root, c, 'two.bmp'),
      bmp24(4, 4, Array(48).fill(c === 'a' ? 200 : 50)),
    );
  }
  const ds = imageDatasetFromDirectory(root, { imageSize: [4, 4], batchSize: 4, shuffle: false });
  assert.equal(ds.files.length, 4);
  assert.ok(ds.files.some((f) => f.endsWith('two.bmp')));
  const b = await ds.load([0, 1, 2, 3]);
  const xs = (await b.xs.data()) as Float32Array;
  b.xs.dispose();
  const means = [0, 1, 2, 3].map(
    (i) => xs.slice(i * 48, (i + 1) * 48).reduce((s, v) => s + v, 0) / 48,
  );
  assert.ok(means.includes(200) && means.includes(50), `BMP pixels loaded: ${means}`);
});

test(`an image above the pixel limit (${MAX_IMAGE_PIXELS.toLocaleString('en-US')}, PIL's) is refused before decoding, naming the file`, async () => {
  const dir = tmpDir('huge-');
  // A BMP header that claims 20000 x 20000 (400 Mpx, 1.2 GB of RGB) in a few bytes.
  const huge = bmp24(1, 1, [0, 0, 0]);
  huge.writeInt32LE(20000, 18);
  huge.writeInt32LE(20000, 22);
  const file = path.join(dir, 'bomb.bmp');
  fs.writeFileSync(file, huge);
  await assert.rejects(
    decodeImageFile(file),
    (e: Error) =>
      e.message.includes(file) &&
      /20000x20000 = 400,000,000 pixels, above the limit of 89,478,485/.test(e.message),
  );
  // The limit is configurable, and applies to the formats sharp decodes too.
  const png = path.join(dir, 'big.png');
  await writeSolid(png, [1, 2, 3], 200, 100);
  process.env.NB_MAX_IMAGE_PIXELS = '10000';
  try {
    await assert.rejects(
      decodeImageFile(png),
      (e: Error) =>
        e.message.includes(png) &&
        /200x100 = 20,000 pixels, above the limit of 10,000 \(NB_MAX_IMAGE_PIXELS\)/.test(
          e.message,
        ),
    );
  } finally {
    delete process.env.NB_MAX_IMAGE_PIXELS;
  }
  assert.equal((await decodeImageFile(png)).width, 200);
});

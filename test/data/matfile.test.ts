// MAT-file reader: small Level 5 files written byte by byte here, then the real Stanford Cars devkit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { parseMatFile, readMatFile } from '../../lib/data/prepare/matfile';
import { readCarsDevkit } from '../../lib/data/prepare/cars';
import { CARS_DEVKIT, skipUnless, tmpDir } from '../helpers';

// ---- a tiny MAT v5 writer (format: MathWorks "MAT-File Format", Level 5) ----
const mi = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  DOUBLE: 9,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
};
const mx = { CELL: 1, STRUCT: 2, CHAR: 4, DOUBLE: 6, INT32: 12, UINT16: 11 };
const LOGICAL = 0x0200;

function writer(le = true) {
  const u32 = (x: number) => {
    const b = Buffer.alloc(4);
    le ? b.writeUInt32LE(x) : b.writeUInt32BE(x);
    return b;
  };
  /** Values as bytes of one miTYPE. */
  const values = (type: number, xs: number[]): Buffer => {
    const size = {
      [mi.INT8]: 1,
      [mi.UINT8]: 1,
      [mi.INT16]: 2,
      [mi.UINT16]: 2,
      [mi.INT32]: 4,
      [mi.UINT32]: 4,
      [mi.DOUBLE]: 8,
    }[type]!;
    const b = Buffer.alloc(xs.length * size);
    xs.forEach((x, i) => {
      const o = i * size;
      if (type === mi.INT8) b.writeInt8(x, o);
      else if (type === mi.UINT8) b.writeUInt8(x, o);
      else if (type === mi.INT16) le ? b.writeInt16LE(x, o) : b.writeInt16BE(x, o);
      else if (type === mi.UINT16) le ? b.writeUInt16LE(x, o) : b.writeUInt16BE(x, o);
      else if (type === mi.INT32) le ? b.writeInt32LE(x, o) : b.writeInt32BE(x, o);
      else if (type === mi.UINT32) le ? b.writeUInt32LE(x, o) : b.writeUInt32BE(x, o);
      else le ? b.writeDoubleLE(x, o) : b.writeDoubleBE(x, o);
    });
    return b;
  };
  /** A data element: small format (4-byte tag) when the data fits in 4 bytes, else 8-byte tag + padding to 8. */
  const el = (type: number, data: Buffer): Buffer => {
    if (data.length <= 4 && type !== mi.MATRIX && type !== mi.COMPRESSED) {
      return Buffer.concat([u32((data.length << 16) | type), data, Buffer.alloc(4 - data.length)]);
    }
    const pad = type === mi.COMPRESSED ? 0 : (8 - (data.length % 8)) % 8;
    return Buffer.concat([u32(type), u32(data.length), data, Buffer.alloc(pad)]);
  };
  const matrix = (cls: number, dims: number[], name: string, body: Buffer[], flags = 0): Buffer =>
    el(
      mi.MATRIX,
      Buffer.concat([
        el(mi.UINT32, values(mi.UINT32, [cls | flags, 0])),
        el(mi.INT32, values(mi.INT32, dims)),
        el(mi.INT8, Buffer.from(name, 'latin1')),
        ...body,
      ]),
    );
  const double = (name: string, dims: number[], xs: number[]) =>
    matrix(mx.DOUBLE, dims, name, [el(mi.DOUBLE, values(mi.DOUBLE, xs))]);
  /** A char array from its rows (equal lengths), stored column-major as UTF-16 code units. */
  const chars = (name: string, rows: string[]) => {
    const cols = rows[0].length,
      units: number[] = [];
    for (let c = 0; c < cols; c++) for (const r of rows) units.push(r.charCodeAt(c));
    return matrix(mx.CHAR, [rows.length, cols], name, [el(mi.UINT16, values(mi.UINT16, units))]);
  };
  const header = (text = 'MATLAB 5.0 MAT-file, Platform: test, Created on: today') => {
    const h = Buffer.alloc(128, ' ');
    h.write(text, 0, 'latin1');
    h.fill(0, 116, 124); // no subsystem data
    le ? h.writeUInt16LE(0x0100, 124) : h.writeUInt16BE(0x0100, 124);
    h.write(le ? 'IM' : 'MI', 126, 'latin1'); // 'MI' written as a 16-bit integer
    return h;
  };
  const file = (...vars: Buffer[]) => Buffer.concat([header(), ...vars]);
  return { el, values, matrix, double, chars, header, file };
}

const w = writer();

test('MAT v5: double scalar, 2x3 matrix in column-major order, smaller stored types, logical', () => {
  const out = parseMatFile(
    w.file(
      w.double('x', [1, 1], [3.5]),
      // [[1 2 3]; [4 5 6]] is stored column by column: 1 4 2 5 3 6
      w.double('m', [2, 3], [1, 4, 2, 5, 3, 6]),
      // MATLAB stores an int32 array in the smallest miTYPE that holds the values (here miUINT8, small format)
      w.matrix(mx.INT32, [1, 3], 'k', [w.el(mi.UINT8, w.values(mi.UINT8, [7, 8, 250]))]),
      w.matrix(mx.DOUBLE, [1, 1], 'neg', [w.el(mi.INT16, w.values(mi.INT16, [-1234]))]),
      w.matrix(mx.DOUBLE, [1, 2], 'flag', [w.el(mi.UINT8, w.values(mi.UINT8, [1, 0]))], LOGICAL),
    ),
    'numbers.mat',
  );
  assert.deepEqual(out, {
    x: 3.5,
    m: [1, 4, 2, 5, 3, 6],
    k: [7, 8, 250],
    neg: -1234,
    flag: [true, false],
  });
});

test('MAT v5: char row, 2-row char matrix (column-major), UTF-8 chars, cell of strings', () => {
  const out = parseMatFile(
    w.file(
      w.chars('s', ['hello']),
      w.chars('rows', ['abc', 'xyz']),
      w.matrix(mx.CHAR, [1, 4], 'u', [w.el(mi.UTF8, Buffer.from('Zoë!', 'utf8'))]),
      w.matrix(mx.CELL, [1, 3], 'names', [
        w.chars('', ['one']),
        w.chars('', ['Ram C/V']),
        w.chars('', ['']),
      ]),
    ),
    'chars.mat',
  );
  assert.deepEqual(out, {
    s: 'hello',
    rows: ['abc', 'xyz'],
    u: 'Zoë!',
    names: ['one', 'Ram C/V', ''],
  });
});

/** Struct: field name length, then the names padded to that length, then per element one matrix per field. */
function struct(name: string, dims: number[], fields: string[], elements: Buffer[][]): Buffer {
  const len = 8;
  const names = Buffer.alloc(len * fields.length);
  fields.forEach((f, i) => names.write(f, i * len, 'latin1'));
  return w.matrix(mx.STRUCT, dims, name, [
    w.el(mi.INT32, w.values(mi.INT32, [len])),
    w.el(mi.INT8, names),
    ...elements.flat(),
  ]);
}

test('MAT v5: 1xN struct array → records, 1x1 struct → record', () => {
  const out = parseMatFile(
    w.file(
      struct(
        'annotations',
        [1, 2],
        ['class', 'fname'],
        [
          [
            w.matrix(mx.UINT16, [1, 1], '', [w.el(mi.UINT8, w.values(mi.UINT8, [14]))]),
            w.chars('', ['00001.jpg']),
          ],
          [
            w.matrix(mx.UINT16, [1, 1], '', [w.el(mi.UINT16, w.values(mi.UINT16, [300]))]),
            w.chars('', ['00002.jpg']),
          ],
        ],
      ),
      struct(
        'opts',
        [1, 1],
        ['lr', 'tags'],
        [[w.double('', [1, 1], [0.001]), w.matrix(mx.CELL, [1, 1], '', [w.chars('', ['a'])])]],
      ),
    ),
    'structs.mat',
  );
  assert.deepEqual(out, {
    annotations: [
      { class: 14, fname: '00001.jpg' },
      { class: 300, fname: '00002.jpg' },
    ],
    opts: { lr: 0.001, tags: ['a'] },
  });
});

test('MAT v5: compressed variables (zlib), followed by an uncompressed one; big-endian files', () => {
  const inner = w.chars('title', ['compressed text']);
  const out = parseMatFile(
    w.file(w.el(mi.COMPRESSED, deflateSync(inner)), w.double('after', [1, 1], [2])),
    'zipped.mat',
  );
  assert.deepEqual(out, { title: 'compressed text', after: 2 });

  const be = writer(false);
  const big = parseMatFile(
    be.file(be.double('m', [2, 2], [1.5, -2, 3, 4e10]), be.chars('s', ['ab', 'cd'])),
    'big.mat',
  );
  assert.deepEqual(big, { m: [1.5, -2, 3, 4e10], s: ['ab', 'cd'] });
});

test('MAT files: clear errors naming the file for wrong format, v7.3 (HDF5), truncated data', () => {
  const dir = tmpDir('mat-');
  const put = (name: string, b: Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, b);
    return f;
  };

  const text = put('notes.mat', Buffer.from('x,y\n1,2\n'.repeat(30)));
  assert.throws(
    () => readMatFile(text),
    (e: Error) => e.message.includes(text) && /not a MATLAB Level 5 MAT-file/.test(e.message),
  );

  const v73 = Buffer.alloc(1024);
  v73.write(
    'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: today HDF5 schema 1.00 .',
    0,
    'latin1',
  );
  v73.write('IM', 126, 'latin1');
  Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(v73, 512);
  const hdf = put('v73.mat', v73);
  assert.throws(
    () => readMatFile(hdf),
    (e: Error) =>
      e.message.includes(hdf) &&
      /v7\.3/.test(e.message) &&
      /-v7/.test(e.message) &&
      /CSV/.test(e.message),
  );

  const whole = w.file(w.double('m', [2, 3], [1, 2, 3, 4, 5, 6]));
  const cut = put('cut.mat', whole.subarray(0, whole.length - 20));
  assert.throws(
    () => readMatFile(cut),
    (e: Error) => e.message.includes(cut) && /truncated/.test(e.message),
  );

  const zipped = w.file(
    w.el(mi.COMPRESSED, deflateSync(w.chars('s', ['a longer text to compress']))),
  );
  const cutZip = put('cutzip.mat', zipped.subarray(0, zipped.length - 6));
  assert.throws(
    () => readMatFile(cutZip),
    (e: Error) => e.message.includes(cutZip) && /truncated/.test(e.message),
  );
  // A complete header with its compressed stream itself cut short (sizes consistent, zlib data not).
  const stream = deflateSync(w.chars('s', ['a longer text to compress'])).subarray(0, 12);
  const badZip = put('badzip.mat', w.file(w.el(mi.COMPRESSED, stream)));
  assert.throws(
    () => readMatFile(badZip),
    (e: Error) => e.message.includes(badZip) && /truncated or corrupt/.test(e.message),
  );

  const missing = path.join(dir, 'nope.mat');
  assert.throws(
    () => readMatFile(missing),
    (e: Error) => e.message.includes(missing) && /not found/.test(e.message),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

const skipCars = skipUnless(CARS_DEVKIT);

test('MAT files: the real Stanford Cars devkit', { skip: skipCars }, () => {
  const meta = readMatFile(path.join(CARS_DEVKIT, 'cars_meta.mat'));
  const names = meta.class_names as string[];
  assert.equal(names.length, 196);
  assert.equal(names[0], 'AM General Hummer SUV 2000');
  assert.equal(names[195], 'smart fortwo Convertible 2012');

  const train = readMatFile(path.join(CARS_DEVKIT, 'cars_train_annos.mat')).annotations as Record<
    string,
    unknown
  >[];
  assert.equal(train.length, 8144);
  assert.deepEqual(train[0], {
    bbox_x1: 39,
    bbox_y1: 116,
    bbox_x2: 569,
    bbox_y2: 375,
    class: 14,
    fname: '00001.jpg',
  });
  assert.equal(train[8143].fname, '08144.jpg');
  assert.ok(
    train.every(
      (a) => typeof a.class === 'number' && (a.class as number) >= 1 && (a.class as number) <= 196,
    ),
  );

  const test_ = readMatFile(path.join(CARS_DEVKIT, 'cars_test_annos.mat')).annotations as Record<
    string,
    unknown
  >[];
  assert.equal(test_.length, 8041);
  assert.ok(
    test_.every((a) => !('class' in a)),
    'the public test annotations have no class',
  );
  assert.deepEqual(Object.keys(test_[0]), ['bbox_x1', 'bbox_y1', 'bbox_x2', 'bbox_y2', 'fname']);

  const dev = readCarsDevkit(CARS_DEVKIT);
  assert.equal(dev.annotations.length, 8144);
  assert.deepEqual(dev.annotations[1], {
    fname: '00002.jpg',
    classIndex: 2,
    bbox: [36, 116, 868, 587],
    isTest: false,
  });
});

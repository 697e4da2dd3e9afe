// The one progress reporter: plain lines every 10% outside a terminal and a notebook, nothing when disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressReporter } from '../../lib/io/progress';

test('items: a line per tenth, ending at the total; disabled: silent', (t) => {
  const lines: string[] = [];
  t.mock.method(console, 'log', (s: string) => {
    lines.push(s);
  });
  const bar = progressReporter('images', { total: 20 });
  for (let i = 0; i < 20; i++) bar.tick();
  bar.done();
  const quiet = progressReporter('images', { total: 20, enabled: false });
  quiet.tick(20);
  t.mock.restoreAll();
  assert.equal(lines.length, 11); // tenths 0 to 10
  assert.equal(lines[0], 'images: 1/20 (5%)');
  assert.equal(lines[lines.length - 1], 'images: 20/20 (100%)');
});

test('bytes: megabytes, and a total that becomes known later', (t) => {
  const lines: string[] = [];
  t.mock.method(console, 'log', (s: string) => {
    lines.push(s);
  });
  const bar = progressReporter('Downloading w.h5', { total: null, unit: 'bytes' });
  bar.update(500_000);
  bar.update(1_000_000, 2_000_000);
  bar.update(2_000_000);
  t.mock.restoreAll();
  assert.deepEqual(lines, [
    'Downloading w.h5: 0.5 MB',
    'Downloading w.h5: 50% (1.0/2.0 MB)',
    'Downloading w.h5: 100% (2.0/2.0 MB)',
  ]);
});

test('named counts, a note after them, and a summary when done', (t) => {
  const lines: string[] = [];
  t.mock.method(console, 'log', (s: string) => {
    lines.push(s);
  });
  const bar = progressReporter('lrFind', { total: 4, unit: 'steps' });
  bar.note('lr 1e-3');
  bar.update(2);
  bar.note('lr 1e-2');
  bar.update(4);
  bar.done('4 steps in 1.0 s');
  const quiet = progressReporter('lrFind', { total: 4, enabled: false });
  quiet.update(4);
  quiet.done('never shown');
  t.mock.restoreAll();
  assert.deepEqual(lines, [
    'lrFind: 2/4 steps (50%) lr 1e-3',
    'lrFind: 4/4 steps (100%) lr 1e-2',
    'lrFind: 4 steps in 1.0 s',
  ]);
});

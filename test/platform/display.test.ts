import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import * as util from 'node:util';
import {
  describeAs,
  showBundle,
  showPng,
  newDisplay,
  isKernel,
  headlineMetrics,
  METRICS_MIME,
} from '../../lib/display';
import * as tf from '@tensorflow/tfjs';
import { tmpDir } from '../helpers';

test('outside a kernel, display never throws and writes artifacts when NB_ARTIFACTS_DIR is set', () => {
  assert.equal(isKernel(), false);
  const dir = tmpDir();
  process.env.NB_ARTIFACTS_DIR = dir;
  try {
    showBundle({
      'image/svg+xml': '<svg/>',
      'application/vnd.vegalite.v5+json': { mark: 'bar' },
      'text/plain': 'chart',
    });
    showPng(new Uint8Array([137, 80, 78, 71]));
    newDisplay().text('progress 1/2');
  } finally {
    delete process.env.NB_ARTIFACTS_DIR;
  }
  const files = fs.readdirSync(dir).sort();
  assert.ok(
    files.some((f) => f.endsWith('.svg')),
    files.join(','),
  );
  assert.ok(files.some((f) => f.endsWith('.vl.json')));
  const png = files.find((f) => f.endsWith('.png'))!;
  assert.deepEqual([...fs.readFileSync(path.join(dir, png))], [137, 80, 78, 71]);
});

test('inside a kernel, a bundle is one display_data with every mime type; live displays update in place', async () => {
  await tf.setBackend('cpu');
  // Stand in for tslab's loaded jupyter module: display looks the writer up in the module cache.
  const sent: {
    data: Record<string, unknown>;
    transient: { display_id?: string };
    update: boolean;
  }[] = [];
  const fakePath = path.join(tmpDir(), 'node_modules', 'tslab', 'dist', 'jupyter.js');
  const m = new Module(fakePath);
  m.exports = {
    lastWriteDisplayData: (
      msg: { data: Record<string, unknown>; transient: { display_id?: string } },
      update: boolean,
    ) => sent.push({ ...msg, update }),
  };
  require.cache[fakePath] = m as NodeJS.Module;
  try {
    assert.equal(isKernel(), true);
    showBundle({
      'image/svg+xml': '<svg/>',
      'application/vnd.vegalite.v5+json': { mark: 'bar' },
      'text/plain': 'chart',
    });
    showPng(Buffer.from([1, 2, 3]));
    headlineMetrics({ accuracy: 0.5 });
    const live = newDisplay();
    live.text('epoch 1');
    live.text('epoch 2');
  } finally {
    delete require.cache[fakePath];
  }
  assert.deepEqual(Object.keys(sent[0].data).sort(), [
    'application/vnd.vegalite.v5+json',
    'image/svg+xml',
    'text/plain',
  ]);
  assert.equal(sent[1].data['image/png'], Buffer.from([1, 2, 3]).toString('base64'));
  assert.deepEqual(sent[2].data[METRICS_MIME], { accuracy: 0.5, backend: 'cpu' });
  assert.equal(sent[3].update, false);
  assert.equal(sent[4].update, true);
  assert.ok(
    sent[3].transient.display_id && sent[3].transient.display_id === sent[4].transient.display_id,
  );
});

test("a shown value printed as a cell's last value (console.log, as tslab does) writes nothing in a kernel", () => {
  const fakePath = path.join(tmpDir(), 'node_modules', 'tslab', 'dist', 'jupyter.js');
  const m = new Module(fakePath);
  m.exports = { lastWriteDisplayData: () => {} };
  const written: string[] = [];
  const write = process.stdout.write;
  // tslab replaces process.stdout.write by its iopub writer for each cell; record instead.
  process.stdout.write = ((chunk: string) => (
    written.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  require.cache[fakePath] = m as NodeJS.Module;
  try {
    console.log(describeAs({ svg: '<svg/>' }, () => '[chart]', { shown: true }));
    console.log(describeAs({ svg: '<svg/>' }, () => '[chart]', { shown: false }));
    console.log('after');
  } finally {
    delete require.cache[fakePath];
    process.stdout.write = write;
  }
  assert.deepEqual(written, ['[chart]\n', 'after\n']);
  // Outside a kernel the description prints (logs and terminals keep a trace).
  assert.equal(util.inspect(describeAs({}, () => '[chart]', { shown: true })), '[chart]');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseBackend,
  initBackend,
  BACKEND_ORDER,
  type BackendCandidate,
  type BackendName,
} from '../../lib/backend/choose';

const fake = (name: BackendName, ok: boolean, calls: string[]): BackendCandidate => ({
  name,
  load: async () => {
    calls.push(name);
    return ok ? { ok: true } : { ok: false, reason: `${name} missing` };
  },
});

test('fallback order is tensorflow > onednn > wasm > cpu', () => {
  assert.deepEqual([...BACKEND_ORDER], ['tensorflow', 'onednn', 'wasm', 'cpu']);
});

test('chooser takes the first candidate that loads and records why the others were skipped', async () => {
  const calls: string[] = [];
  const c = await chooseBackend([
    fake('tensorflow', false, calls),
    fake('onednn', false, calls),
    fake('wasm', true, calls),
    fake('cpu', true, calls),
  ]);
  assert.equal(c.name, 'wasm');
  assert.deepEqual(calls, ['tensorflow', 'onednn', 'wasm']);
  assert.deepEqual(
    c.skipped.map((s) => s.name),
    ['tensorflow', 'onednn'],
  );
  assert.match(c.why, /tensorflow: tensorflow missing/);
});

test('chooser prefers tensorflow when it loads', async () => {
  const calls: string[] = [];
  const c = await chooseBackend([
    fake('tensorflow', true, calls),
    fake('onednn', true, calls),
    fake('wasm', true, calls),
  ]);
  assert.equal(c.name, 'tensorflow');
  assert.deepEqual(calls, ['tensorflow']);
});

test('a candidate that throws is skipped, not fatal', async () => {
  const calls: string[] = [];
  const boom: BackendCandidate = {
    name: 'onednn',
    load: async () => {
      throw new Error('addon crashed\nstack');
    },
  };
  const c = await chooseBackend([boom, fake('cpu', true, calls)]);
  assert.equal(c.name, 'cpu');
  assert.equal(c.skipped[0].reason, 'addon crashed');
});

test('TFJS_BACKEND forces one backend and fails loudly when it cannot start', async () => {
  const calls: string[] = [];
  const c = await chooseBackend([fake('tensorflow', true, calls), fake('cpu', true, calls)], 'cpu');
  assert.equal(c.name, 'cpu');
  assert.match(c.why, /TFJS_BACKEND=cpu/);
  await assert.rejects(
    chooseBackend([fake('wasm', false, calls)], 'wasm'),
    /TFJS_BACKEND=wasm was asked for but cannot start: wasm missing/,
  );
  await assert.rejects(
    chooseBackend([fake('cpu', true, calls)], 'webgpu'),
    /not a backend: use one of cpu/,
  );
});

test('initBackend starts a real backend on this machine and reports it', async () => {
  const info = await initBackend();
  assert.ok(BACKEND_ORDER.includes(info.backend));
  assert.equal(info.tfjsVersion, '4.22.0');
  const tf = await import('@tensorflow/tfjs');
  assert.equal(tf.getBackend(), info.backend);
  // Every backend that was tried before the chosen one says why it was skipped.
  // (A forced TFJS_BACKEND tries nothing else.)
  const before = process.env.TFJS_BACKEND
    ? []
    : BACKEND_ORDER.slice(0, BACKEND_ORDER.indexOf(info.backend));
  assert.deepEqual(
    info.skipped.map((s) => s.name),
    before,
  );
});

test("tfjs' Node.js banner never prints; other warnings still do", async () => {
  const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
  const warn = console.warn;
  const warned: string[] = [];
  console.warn = (...args: unknown[]) => void warned.push(args.join(' '));
  try {
    const backend = new MathBackendCPU(); // a fresh backend's first tensor is what prints the banner
    backend.write(new Float32Array([1]), [1], 'float32');
    const tf = await import('@tensorflow/tfjs');
    tf.util.assert(true, () => '');
    console.warn('a real warning');
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warned, ['a real warning']);
});

test('backendInfo shows one short line by default and the full table on request', async () => {
  const { backendInfo, backendLine } = await import('../../lib/backend/index');
  const info = await backendInfo({ show: false });
  const line = backendLine(info);
  assert.match(line, new RegExp(`^Backend: ${info.backend}.* · tfjs 4\\.22\\.0 · Node v\\d+`));
  assert.ok(!line.includes('\n') && line.length <= 100, line);
});

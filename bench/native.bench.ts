// The oneDNN backend against PyTorch's fastest CPU setup on the same machine, in the same run, with
// as many threads on both sides. Random weights (speed does not depend on them); each base gets a
// new head (global average pooling + Dense(10)). Rows:
//   forward  native size, batch 8: model.predict vs PyTorch under inference_mode (target >= 1.2x)
//   top      native size, batch 8: one training step with only the top block trainable (VGG16
//            block5, ResNet50 conv5_block3, InceptionV3 mixed9+10), as trainPhase runs it (>= 1.0x)
//   full     every layer trainable: 32, 64, 112 px at batch 32 and native size at batch 8
//            (>= 1.0x from 64 px, >= 0.8x at 32 px; InceptionV3 starts at its minimum, 75 px)
//            top and full rows run once per optimizer, the row naming it: SGD (lr 0.01) and Adam
//            (Keras' defaults, lr 1e-4, epsilon 1e-7: what the notebooks train with); PyTorch's side
//            uses torch.optim.SGD / torch.optim.Adam with the same settings. BENCH_OPTIMIZERS=sgd,adam
//            (the default: both) picks.
//   tune     notebook 03's fine-tuning step (VGG16 only): 32 px, batch 32, blocks 4 and 5 trainable
//            (its last 8 layers, fineTuneLayers: 8) and the head, per optimizer (>= 1.0x); the
//            notebook runs the frozen blocks once into cached features, here they run every step
//            (off the tape on our side, without autograd on PyTorch's) on both sides alike
//   head     one epoch of cached features (1024 x 2048, ResNet50's pooled output) through notebook
//            01's head (BN, Dense(512), Dropout, Dense(196), L2), Adam, batch 32
// PyTorch (bench/pytorch_peer.py) tries NCHW and channels_last, oneDNN on, and keeps the faster; the
// table names the winner. Each figure is the best of ITERS timed runs after warm-up runs.
//
// Load: the machine may be shared, and a busy core slows either side at random. Each row is one
// round (ours, then PyTorch); the round's load is the CPU time other processes took during it, in
// cores (/proc/stat minus this process and its children), printed with the 1-minute load average
// (which counts this bench's own threads too). Above BENCH_MAX_LOAD (0.5 cores) the round is retried
// up to BENCH_RETRIES times (2; 1 with BENCH_QUICK); if every round was busy, each side's best over
// the rounds is printed marked "under load" (with the lowest load seen) and no ratio is claimed.
//
// BENCH_QUICK=1: smaller native sizes, full rows at 32 px only, 2 timed runs, a 256-sample epoch;
// BENCH_ITERS=n sets the timed runs per measurement, BENCH_WARMUP=n the warm-up runs (4).
// BENCH_MODELS=ResNet50,VGG16, BENCH_ROWS=forward,top,full,tune,head and BENCH_SIZES=64 (the full rows'
// sizes at batch 32, without the native-size row) narrow the run;
// BENCH_BACKENDS=onednn,wasm,cpu,pytorch picks the sides (wasm and cpu: forward only, no ratio).
// ONEDNN_PROFILE=1: also print where the onednn backend spends its time, per kernel.
// Ours runs seeded, as the notebooks do, so every kernel runs on all threads; BENCH_ADAPTIVE=1 times
// the unseeded one-or-all-threads pick instead (faster when other processes hold a core).
// Every table is printed with the CPU model and the implementations oneDNN picked (from its
// primitive descriptors, what ONEDNN_VERBOSE would name), since the ratios depend on both.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { architectures, type Architecture } from '../lib/models/architectures';
import { freeze } from '../lib/models/freeze';
import { registerOnednnBackend, onednnInfo } from '../lib/backend/onednn';
import { registerWasmGradientKernels } from '../lib/backend/wasm-gradients';
import { compile, sgd, adam } from '../lib/train/compile';
import { trainOnBatch } from '../lib/train/step';
import { buildHead, HEADS } from '../lib/train/heads';
import { setRandomSeed } from '../lib/seed';

const QUICK = process.env.BENCH_QUICK === '1';
const PROFILE = process.env.ONEDNN_PROFILE === '1';
const ADAPTIVE = process.env.BENCH_ADAPTIVE === '1';
const ITERS = Number(process.env.BENCH_ITERS ?? (QUICK ? 2 : 4));
const MAX_LOAD = Number(process.env.BENCH_MAX_LOAD ?? 0.5);
const RETRIES = Number(process.env.BENCH_RETRIES ?? (QUICK ? 1 : 2));
const CLASSES = 10;
const HEAD_SAMPLES = QUICK ? 256 : 1024;
const HEAD_FEATURES = 2048;
const PYTHON = '/usr/bin/python3';
const PEER = path.join(__dirname, 'pytorch_peer.py');

interface Base {
  name: string;
  peer: string;
  build: Architecture['build'];
  size: number;
  minSize: number;
  tiny: number;
  topFrom: string | number;
}
// Every registered base. Its PyTorch peer (bench/pytorch_peer.py) is named as our builder is.
const ALL_BASES: Base[] = architectures().map((a) => ({
  name: a.displayName,
  peer: a.build.name,
  build: a.build,
  size: QUICK ? a.benchSize : a.defaultSize,
  minSize: a.minSize,
  tiny: a.minSize,
  topFrom: a.boundaries.lastBlockFrom,
}));
const pickList = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()) : null);
const onlyModels = pickList(process.env.BENCH_MODELS);
const onlyBackends = pickList(process.env.BENCH_BACKENDS);
const onlyRows = pickList(process.env.BENCH_ROWS);
// BENCH_SIZES=64,112: the full rows' sizes at batch 32 (and no native-size row).
const SIZES = pickList(process.env.BENCH_SIZES)?.map(Number) ?? null;
const BASES = ALL_BASES.filter((b) => !onlyModels || onlyModels.includes(b.name));
type OptimizerName = 'sgd' | 'adam';
const OPTIMIZERS = (pickList(process.env.BENCH_OPTIMIZERS) ?? ['sgd', 'adam']).map((o) => {
  const name = o.toLowerCase();
  if (name !== 'sgd' && name !== 'adam')
    throw new Error(`BENCH_OPTIMIZERS: unknown optimizer "${o}" (sgd, adam)`);
  return name as OptimizerName;
});
// The settings both sides use: SGD as before; Adam with Keras' defaults at the notebooks' rate.
const OPTIMIZER_SPECS = {
  sgd: () => sgd({ learningRate: 0.01 }),
  adam: () => adam({ learningRate: 1e-4, epsilon: 1e-7 }),
};
const OPTIMIZER_LABELS: Record<OptimizerName, string> = { sgd: 'SGD', adam: 'Adam' };
const wanted = (name: string) => !onlyBackends || onlyBackends.includes(name);
const rowWanted = (kind: string) => !onlyRows || onlyRows.includes(kind);

type Mode = 'forward' | 'top' | 'full' | 'tune' | 'head';
// The tune row: notebook 03's fine-tuning (its base, size, and first trainable layer).
const TUNE: Record<string, { size: number; from: string }> = {
  VGG16: { size: 32, from: 'block4_conv1' },
};
interface Row {
  kind: Mode;
  base?: Base;
  size: number;
  batch: number;
  target?: number;
  /** The training rows' optimizer (top, full, tune). */
  optimizer?: OptimizerName;
}

/** Base + new head; `top`: frozen except the base's top block. */
async function buildModel(
  b: Base,
  size: number,
  mode: Mode,
  optimizer: OptimizerName = 'sgd',
): Promise<tf.LayersModel> {
  const base = await b.build({ includeTop: false, weights: null, inputShape: [size, size, 3] });
  const pooled = tf.layers.globalAveragePooling2d({}).apply(base.outputs[0]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: CLASSES, activation: 'softmax' })
    .apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: out });
  if (mode === 'top') freeze(model, { upTo: b.topFrom });
  if (mode === 'tune') freeze(model, { upTo: TUNE[b.name].from });
  compile(model, { optimizer: OPTIMIZER_SPECS[optimizer]() });
  return model;
}

// Per-kernel wall time (ONEDNN_PROFILE=1): wraps the registered kernel functions.
const kernelMs = new Map<string, number>();
function instrument(backend: string): void {
  for (const k of tf.getKernelsForBackend(backend)) {
    const f = k.kernelFunc;
    (k as { kernelFunc: typeof f }).kernelFunc = (args) => {
      const t0 = performance.now();
      const r = f(args);
      kernelMs.set(k.kernelName, (kernelMs.get(k.kernelName) ?? 0) + performance.now() - t0);
      return r;
    };
  }
}
function printProfile(label: string, totalMs: number): void {
  const top = [...kernelMs].sort((a, b) => b[1] - a[1]).slice(0, 14);
  const rest = totalMs - top.reduce((s, [, ms]) => s + ms, 0);
  console.log(
    `    ${label}: ${top.map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(', ')}, other+overhead ${rest.toFixed(0)} (ms of ${totalMs.toFixed(0)})`,
  );
  kernelMs.clear();
}

// Warm-up runs before timing: oneDNN creates its primitives on the first call, and the onednn backend
// times each primitive on 1 thread and on all over the next calls before it settles (as any real
// training run, thousands of steps, has long done). PyTorch's peer warms up once.
const WARMUP = Number(process.env.BENCH_WARMUP ?? 4);

/** The fastest of `n` runs of `f` after WARMUP warm-ups, in ms; the kernel profile kept is that run's. */
async function best(n: number, f: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await f();
  let bestMs = Infinity;
  let bestProfile = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    kernelMs.clear();
    const t0 = performance.now();
    await f();
    const ms = performance.now() - t0;
    if (ms < bestMs) [bestMs, bestProfile] = [ms, new Map(kernelMs)];
  }
  kernelMs.clear();
  bestProfile.forEach((v, k) => kernelMs.set(k, v));
  return bestMs;
}

/** Our images (or samples) per second for one row on `backend`. */
async function ours(backend: string, row: Row, iters: number): Promise<number> {
  await tf.setBackend(backend);
  if (backend === 'wasm') registerWasmGradientKernels();
  let ms: number;
  let per: number;
  if (row.kind === 'head') {
    const input = tf.input({ shape: [HEAD_FEATURES] });
    const features = tf.model({
      inputs: input,
      outputs: tf.layers.activation({ activation: 'linear' }).apply(input) as tf.SymbolicTensor,
    });
    const model = buildHead(features, HEADS.resnet50Cars());
    compile(model, { optimizer: adam({ learningRate: 1e-4 }) });
    const xs = tf.randomNormal([HEAD_SAMPLES, HEAD_FEATURES]);
    const labels = Array.from({ length: HEAD_SAMPLES }, (_, i) => i % 196);
    const batches: { x: tf.Tensor; y: number[] }[] = [];
    for (let i = 0; i < HEAD_SAMPLES; i += row.batch) {
      batches.push({
        x: xs.slice([i, 0], [Math.min(row.batch, HEAD_SAMPLES - i), HEAD_FEATURES]),
        y: labels.slice(i, i + row.batch),
      });
    }
    try {
      ms = await best(iters, async () => {
        for (const b of batches) await trainOnBatch(model, b.x, b.y);
      });
    } finally {
      tf.dispose([xs, ...batches.map((b) => b.x)]);
      model.dispose();
    }
    per = HEAD_SAMPLES;
  } else {
    const b = row.base!;
    const model = await buildModel(b, row.size, row.kind, row.optimizer);
    const x = tf.randomUniform([row.batch, row.size, row.size, 3], -1, 1);
    const labels = Array.from({ length: row.batch }, (_, i) => i % CLASSES);
    try {
      ms = await best(
        iters,
        row.kind === 'forward'
          ? async () => {
              const out = model.predict(x) as tf.Tensor;
              await out.data();
              out.dispose();
            }
          : async () => {
              await trainOnBatch(model, x, labels);
            },
      );
    } finally {
      x.dispose();
      model.dispose();
    }
    per = row.batch;
  }
  if (PROFILE && backend === 'onednn') printProfile(`${label(row)} (best run)`, ms);
  return (per * 1000) / ms;
}

/** The CPU's model name and core count, as /proc/cpuinfo names it (os.cpus elsewhere). */
function cpuModel(): string {
  const cpus = os.cpus();
  const flags = fs.existsSync('/proc/cpuinfo')
    ? (/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '')
    : '';
  const isa = ['avx512f', 'avx2'].find((f) => flags.split(' ').includes(f)) ?? 'no avx2';
  return `${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores, ${isa})`;
}

function torchAvailable(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : 'python3 cannot import torch, torchvision (apt-get install python3-torch python3-torchvision)';
}

interface Peer {
  imgS?: number;
  config?: string;
  configs?: Record<string, number>;
  note?: string;
}
let peerBlas = '';
let peerTorch = '';
function pytorch(row: Row, threads: number): Peer {
  const args =
    row.kind === 'head'
      ? [
          'head',
          'resnet50',
          String(HEAD_FEATURES),
          String(row.batch),
          String(ITERS),
          String(threads),
          String(HEAD_SAMPLES),
        ]
      : [
          row.kind,
          row.base!.peer,
          String(row.size),
          String(row.batch),
          String(ITERS),
          String(threads),
          ...(row.optimizer ? ['--optimizer', row.optimizer] : []),
        ];
  const r = spawnSync(PYTHON, [PEER, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(line) as {
      img_s: number;
      config: string;
      configs: Record<string, number>;
      blas: string;
      torch: string;
    };
    [peerBlas, peerTorch] = [j.blas, j.torch];
    return { imgS: j.img_s, config: j.config, configs: j.configs };
  } catch {
    return { note: `PyTorch failed: ${(r.stderr ?? '').trim().split('\n').pop()?.slice(0, 100)}` };
  }
}

// CPU time in clock ticks: the whole machine's busy time, and this process's (children included).
const TICKS = 100; // USER_HZ on Linux
function machineBusyTicks(): number {
  const f = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return user + nice + system + irq + softirq + (steal ?? 0);
}
function ownTicks(): number {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s
    .slice(s.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number); // fields from 3 (state) on
  return f[11] + f[12] + f[13] + f[14]; // utime stime cutime cstime
}
interface Load {
  others: number;
  loadavg: number;
}
function loadSince(start: { busy: number; own: number; t: number }): Load {
  const seconds = (performance.now() - start.t) / 1000;
  const others = Math.max(
    0,
    (machineBusyTicks() - start.busy - (ownTicks() - start.own)) / TICKS / seconds,
  );
  return { others, loadavg: os.loadavg()[0] };
}
const loadStart = () => ({ busy: machineBusyTicks(), own: ownTicks(), t: performance.now() });

const label = (row: Row) =>
  row.kind === 'head'
    ? 'head epoch (cached features, Adam)'
    : `${row.base!.name} ${row.kind}${row.optimizer ? ` (${OPTIMIZER_LABELS[row.optimizer]})` : ''}`;
const f2 = (v?: number) => (v === undefined ? '-' : v.toFixed(2));

function rowsToRun(): Row[] {
  const rows: Row[] = [];
  for (const b of BASES) {
    if (rowWanted('forward'))
      rows.push({ kind: 'forward', base: b, size: b.size, batch: 8, target: 1.2 });
    if (rowWanted('top'))
      for (const optimizer of OPTIMIZERS)
        rows.push({ kind: 'top', base: b, size: b.size, batch: 8, target: 1.0, optimizer });
  }
  if (rowWanted('full')) {
    for (const b of BASES) {
      const sizes = [
        ...new Set((SIZES ?? (QUICK ? [32] : [32, 64, 112])).map((s) => Math.max(s, b.minSize))),
      ];
      for (const optimizer of OPTIMIZERS) {
        for (const s of sizes)
          rows.push({
            kind: 'full',
            base: b,
            size: s,
            batch: 32,
            target: s >= 64 ? 1.0 : 0.8,
            optimizer,
          });
        if (!QUICK && !SIZES)
          rows.push({ kind: 'full', base: b, size: b.size, batch: 8, target: 1.0, optimizer });
      }
    }
  }
  if (rowWanted('tune'))
    for (const b of BASES.filter((x) => TUNE[x.name]))
      for (const optimizer of OPTIMIZERS)
        rows.push({
          kind: 'tune',
          base: b,
          size: TUNE[b.name].size,
          batch: 32,
          target: 1.0,
          optimizer,
        });
  if (rowWanted('head')) rows.push({ kind: 'head', size: HEAD_FEATURES, batch: 32 });
  return rows;
}

async function main(): Promise<void> {
  // Ours runs as the notebooks and the stand-in pretraining do: seeded, so every kernel runs on all
  // threads (op determinism). BENCH_ADAPTIVE=1 keeps the unseeded one-or-all pick per kernel.
  if (!ADAPTIVE) setRandomSeed(1);
  const reg = registerOnednnBackend();
  if (!reg.ok) console.log(`onednn backend unavailable: ${reg.reason}`);
  const info = onednnInfo();
  const threads = info.threads ?? os.cpus().length;
  const noTorch = wanted('pytorch') ? torchAvailable() : 'not asked for (BENCH_BACKENDS)';
  if (PROFILE && reg.ok) instrument('onednn');
  console.log(
    `CPU: ${cpuModel()}; oneDNN ${info.version ?? '-'} (${info.isa ?? '-'}, ${threads} ${info.runtime ?? ''} threads, ` +
      `${ADAPTIVE ? 'one or all per kernel by timing (BENCH_ADAPTIVE=1)' : 'all on every kernel, as in the seeded notebooks'}); best of ${ITERS} timed runs ` +
      `after ${WARMUP} warm-ups (PyTorch 1); PyTorch: ${noTorch ?? `same run, ${threads} threads, fastest of NCHW / channels_last`}; ` +
      `a round counts as quiet when other processes used <= ${MAX_LOAD} cores during it`,
  );

  const table: string[][] = [];
  if (reg.ok && wanted('onednn')) {
    for (const row of rowsToRun()) {
      // Rounds until one is quiet (at most 1 + RETRIES). A quiet round's figures stand; when every
      // round was busy, each side's best over the rounds is shown, marked "under load".
      let quietRound: { o?: number; p: Peer; load: Load } | undefined;
      const busy: { o?: number; p: Peer; load: Load }[] = [];
      for (let attempt = 0; attempt <= RETRIES && !quietRound; attempt++) {
        const start = loadStart();
        let o: number | undefined;
        let note = '';
        try {
          o = await ours('onednn', row, ITERS);
        } catch (e) {
          note = `failed: ${(e as Error).message.split('\n')[0].slice(0, 100)}`;
        }
        const p = noTorch ? { note: '' } : pytorch(row, threads);
        if (note) p.note = [note, p.note].filter(Boolean).join('; ');
        const load = loadSince(start);
        const quiet = load.others <= MAX_LOAD;
        console.log(
          `  ${label(row)} ${row.size} px b${row.batch}: ours ${f2(o)}, PyTorch ${f2(p.imgS)} (${p.config ?? '-'}); ` +
            `others used ${load.others.toFixed(2)} cores, load avg ${load.loadavg.toFixed(2)}` +
            (quiet
              ? ''
              : attempt < RETRIES
                ? ' -- too busy, retrying'
                : ' -- too busy, giving up: figures marked "under load"'),
        );
        if (quiet) quietRound = { o, p, load };
        else busy.push({ o, p, load });
      }
      const bestOf = <T>(xs: T[], v: (x: T) => number | undefined) =>
        xs.reduce<T | undefined>(
          (a, x) => ((v(x) ?? -1) > (a === undefined ? -1 : (v(a) ?? -1)) ? x : a),
          undefined,
        ) ?? xs[0];
      const chosen = quietRound ?? {
        o: bestOf(busy, (r) => r.o).o,
        p: bestOf(busy, (r) => r.p.imgS).p,
        load: {
          others: Math.min(...busy.map((r) => r.load.others)),
          loadavg: Math.min(...busy.map((r) => r.load.loadavg)),
        },
      };
      const { o, p, load } = chosen;
      const quiet = quietRound !== undefined;
      const ratio = o !== undefined && p.imgS !== undefined ? o / p.imgS : undefined;
      const configs = p.configs
        ? Object.entries(p.configs)
            .map(([k, v]) => `${k} ${v.toFixed(2)}`)
            .join(', ')
        : '';
      table.push([
        label(row),
        `${row.size}`,
        `${row.batch}`,
        f2(o),
        f2(p.imgS),
        p.config ?? '-',
        ratio === undefined ? '-' : quiet ? `${ratio.toFixed(2)}x` : 'n/a (under load)',
        row.target ? `${row.target.toFixed(1)}x` : '-',
        `${load.others.toFixed(2)} / ${load.loadavg.toFixed(2)}`,
        [
          quiet ? '' : `under load (ours/PyTorch ${ratio?.toFixed(2) ?? '-'})`,
          configs,
          p.note ?? '',
        ]
          .filter(Boolean)
          .join('; '),
      ]);
    }
  }
  // Other backends, forward only and without a ratio: wasm at native size (batch 8), the pure-JS
  // cpu backend on a tiny input (batch 1; it is ~100x slower).
  for (const b of BASES) {
    if (wanted('wasm') && rowWanted('forward') && !QUICK) {
      const row: Row = { kind: 'forward', base: b, size: b.size, batch: 8 };
      const v = await ours('wasm', row, 1).catch(() => undefined);
      table.push([
        `${b.name} forward (wasm)`,
        `${b.size}`,
        '8',
        f2(v),
        '-',
        '-',
        '-',
        '-',
        '-',
        '',
      ]);
    }
    if (wanted('cpu') && rowWanted('forward')) {
      const row: Row = { kind: 'forward', base: b, size: b.tiny, batch: 1 };
      const v = await ours('cpu', row, 1).catch(() => undefined);
      table.push([`${b.name} forward (cpu)`, `${b.tiny}`, '1', f2(v), '-', '-', '-', '-', '-', '']);
    }
  }
  const head = [
    'row',
    'px',
    'batch',
    'onednn img/s',
    'PyTorch img/s',
    'PyTorch config',
    'ours / PyTorch',
    'target',
    'others / load avg',
    'note',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  table.forEach((r) => console.log(line(r)));
  console.log(
    'head epoch figures are samples/s; "others" = cores other processes used during the round.',
  );
  if (peerBlas) {
    // Debian's reference BLAS (libblas3) makes PyTorch 1.13's 1x1 convolutions ~10x slower.
    const ref = /(^|, )blas\/libblas/.test(peerBlas);
    console.log(
      `PyTorch ${peerTorch}, BLAS: ${peerBlas}${ref ? ' -- the slow reference BLAS: apt-get install libopenblas0-openmp for a fair peer' : ''}`,
    );
  }
  console.log(`CPU: ${cpuModel()}`);
  if (reg.ok)
    console.log(
      `oneDNN implementations: ${Object.entries(onednnInfo().impls ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
}

void main();

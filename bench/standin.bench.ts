// How long the offline stand-ins take to build: what a fresh `npm start` spends before the first
// notebook. For each base at its quick-profile size, the whole pretraining (lib/models/pretext.ts:
// drawing the images, the optimiser steps, BatchNormalization calibration, saving the .h5) into a
// temporary cache, so the user's ~/.keras is never touched. Also the share of a step the image
// drawing takes (BENCH_RENDER_BATCHES batches, 5), since that part runs in JavaScript.
// BENCH_MODELS=vgg16,resnet50 picks bases; BENCH_QUICK=1 builds with 10 steps per base (the set-up
// — building the model, its starting scale, calibration, saving — included, so "per step" overstates).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../lib/backend/index';
import { onednnInfo } from '../lib/backend/onednn';
import { architectures } from '../lib/models/architectures';
import { pretrainOnGeneratedData } from '../lib/models/pretext';
import { renderPretextSign } from '../lib/data/pretext-signs';
import { rngFor } from '../lib/rng';

const QUICK = process.env.BENCH_QUICK === '1';
const only = process.env.BENCH_MODELS?.toLowerCase().split(',');
const RENDER_BATCHES = Number(process.env.BENCH_RENDER_BATCHES ?? 5);

async function main(): Promise<void> {
  const { backend } = await initBackend();
  const info = backend === 'onednn' ? onednnInfo() : null;
  console.log(
    `backend ${backend}${info ? ` (oneDNN ${info.version}, ${info.isa}, ${info.threads} threads)` : ''}; ` +
      `CPU ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores`,
  );
  const rows: string[][] = [];
  let total = 0;
  for (const arch of architectures().filter((a) => !only || only.includes(a.name))) {
    const size = arch.standIn.quickSize;
    const spec = arch.standIn.spec;
    const t0 = performance.now();
    for (let b = 0; b < RENDER_BATCHES; b++)
      for (let i = 0; i < spec.batchSize; i++) renderPretextSign(size, rngFor(9, b, i));
    const renderMs = (performance.now() - t0) / RENDER_BATCHES;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-bench-'));
    try {
      const steps = QUICK ? 10 : spec.steps;
      const built = await pretrainOnGeneratedData(arch, size, {
        cacheDir: dir,
        progress: !QUICK,
        ...(QUICK ? { spec: { steps } } : {}),
      });
      total += built.seconds;
      rows.push([
        arch.displayName,
        `${size} px`,
        String(steps),
        `${built.seconds.toFixed(0)} s`,
        `${((built.seconds / steps) * 1000).toFixed(0)} ms`,
        `${renderMs.toFixed(0)} ms`,
        QUICK ? '–' : `${(built.finalAccuracy * 100).toFixed(1)}%`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const head = [
    'base',
    'size',
    'steps',
    'build',
    'per step',
    'drawing a batch',
    'pretext accuracy',
  ];
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  for (const r of [head, ...rows]) console.log(r.map((c, j) => c.padEnd(widths[j])).join('  '));
  console.log(
    `all stand-ins: ${total.toFixed(0)} s${QUICK ? ` (10 steps each, not the specs' steps)` : ''}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

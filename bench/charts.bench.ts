// How long the evaluation cells take at Stanford Cars scale (196 classes, 8,041 images) and how big
// their outputs are. BENCH_QUICK=1 runs each once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classificationReport } from '../lib/evaluate/report';
import { confusionMatrix, topKAccuracy } from '../lib/evaluate/metrics';
import { composeGrid, RIGHT_COLOUR, WRONG_COLOUR } from '../lib/charts/grid';
import { historyChartBundle, plotHistory } from '../lib/charts/history';
import { plotConfusionMatrix } from '../lib/charts/confusion';
import { syntheticHistory } from '../test/charts/fixtures';

const reps = process.env.BENCH_QUICK ? 1 : 5;

async function time<T>(
  name: string,
  fn: () => T | Promise<T>,
  size?: (r: T) => string,
): Promise<void> {
  let r: T | undefined;
  const start = performance.now();
  for (let i = 0; i < reps; i++) r = await fn();
  const ms = (performance.now() - start) / reps;
  console.log(`${name.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms${size ? `   ${size(r!)}` : ''}`);
}

async function main() {
  const n = 8041;
  const k = 196;
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const labels = Array.from({ length: n }, () => Math.floor(random() * k));
  const probs = new Float32Array(n * k).map(() => random());
  const predicted = labels.map((t) => (random() < 0.57 ? t : Math.floor(random() * k)));
  const kb = (s: string | Buffer) => `${(Buffer.byteLength(s) / 1024).toFixed(0)} kB`;
  console.log(`charts bench: ${reps} rep(s) each; ${n} images, ${k} classes`);

  await time('topKAccuracy (k=3, 8041 x 196 probabilities)', () =>
    topKAccuracy(labels, { data: probs, numClasses: k }, 3),
  );
  await time(
    'classificationReport (196 classes)',
    () =>
      classificationReport(
        labels,
        predicted,
        Array.from({ length: k }, (_, i) => `class ${i}`),
        { show: false },
      ),
    (r) => `html ${kb(r.html)}`,
  );
  const cm = confusionMatrix(labels, predicted, k);
  await time(
    'plotConfusionMatrix (196 classes)',
    () =>
      plotConfusionMatrix(
        cm,
        Array.from({ length: k }, (_, i) => `class ${i}`),
        { show: false },
      ),
    (r) => `svg ${kb(r.svg)}, spec ${kb(JSON.stringify(r.spec))}`,
  );
  const h = syntheticHistory({ epochs: 150, halveEvery: 20 });
  await time(
    'plotHistory (150 epochs, 3 panels)',
    () => plotHistory(h, { show: false }),
    (r) => `svg ${kb(r.svg)}`,
  );
  await time('historyChartBundle (live chart, 30 epochs)', () =>
    historyChartBundle(syntheticHistory({ epochs: 30 })),
  );

  const gtsrb = path.resolve(__dirname, '..', '..', 'shared', 'data', 'gtsrb-40', 'Valid');
  if (fs.existsSync(gtsrb)) {
    const files = fs
      .readdirSync(gtsrb)
      .flatMap((c) =>
        fs
          .readdirSync(path.join(gtsrb, c))
          .slice(0, 2)
          .map((f) => path.join(gtsrb, c, f)),
      )
      .slice(0, 64);
    const tiles = files.map((file, i) => ({
      file,
      title: {
        lines: [
          { text: `T: class ${i}`, colour: i % 7 ? RIGHT_COLOUR : WRONG_COLOUR },
          { text: `P: class ${i}`, colour: i % 7 ? RIGHT_COLOUR : WRONG_COLOUR },
        ],
      },
    }));
    await time(
      'prediction grid 8x8 (GTSRB files, 128 px tiles)',
      () => composeGrid(tiles, { cols: 8 }),
      (r) => `png ${kb(r)}`,
    );
  } else {
    console.log('prediction grid: skipped (no ../shared/data/gtsrb-40)');
  }
}
main();

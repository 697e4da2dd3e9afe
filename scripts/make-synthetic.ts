// npm run make-synthetic -- [--out DIR] [--layout gtsrb|cars] [--classes 43] [--train 28] [--valid 12] [--test 10] [--size 48] [--seed 0]
// Writes the deterministic synthetic traffic-sign dataset (the offline default).
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { makeSyntheticSigns } from '../lib/data/synthetic';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    layout: { type: 'string', default: 'gtsrb' },
    classes: { type: 'string', default: '43' },
    train: { type: 'string', default: '28' },
    valid: { type: 'string', default: '12' },
    test: { type: 'string', default: '10' },
    size: { type: 'string', default: '48' },
    seed: { type: 'string', default: '0' },
    overwrite: { type: 'boolean', default: false },
  },
});
const layout = values.layout === 'cars' ? 'cars' : 'gtsrb';
const out = path.resolve(path.resolve(__dirname, '..'), values.out ?? `data/synthetic-${layout}`);
const t0 = Date.now();
makeSyntheticSigns(out, {
  layout,
  classes: Number(values.classes),
  trainPerClass: Number(values.train),
  validPerClass: Number(values.valid),
  testPerClass: Number(values.test),
  size: Number(values.size),
  seed: Number(values.seed),
  overwrite: values.overwrite,
  progress: true,
}).then(
  (r) =>
    console.log(
      `${r.created ? 'Wrote' : 'Already there:'} ${r.dir} (${r.classNames.length} classes, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    ),
  (e: Error) => {
    console.error(e.message);
    process.exit(1);
  },
);

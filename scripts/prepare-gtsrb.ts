// npm run prepare-gtsrb -- [--out DIR] [--source DIR] [--download-dir DIR] [--train 28] [--valid 12] [--test-every 1] [--overwrite]
// Builds the walkthrough's GTSRB layout (Train/<id>, Valid/<id>, Test/ + Test.csv). Without --source it
// downloads the official archives (resumable, md5-checked). Output default: $GTSRB_DIR or data/gtsrb-40.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareGtsrb } from '../lib/data/prepare/gtsrb';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    source: { type: 'string' },
    'download-dir': { type: 'string' },
    train: { type: 'string', default: '28' },
    valid: { type: 'string', default: '12' },
    'test-every': { type: 'string', default: '1' },
    overwrite: { type: 'boolean', default: false },
  },
});
const root = path.resolve(__dirname, '..');
const outDir = path.resolve(root, values.out ?? process.env.GTSRB_DIR ?? 'data/gtsrb-40');

prepareGtsrb({
  outDir,
  sourceDir: values.source,
  downloadDir: values['download-dir'],
  trainPerClass: Number(values.train),
  validPerClass: Number(values.valid),
  testEvery: Number(values['test-every']),
  overwrite: values.overwrite,
  progress: true,
}).then(
  (dir) => console.log(`Done. Use it with GTSRB_DIR=${path.relative(root, dir) || dir}`),
  (e: Error) => {
    console.error(e.message);
    process.exit(1);
  },
);

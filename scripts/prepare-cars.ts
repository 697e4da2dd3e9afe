// npm run prepare-cars -- --images DIR (with cars_train/, cars_test/) [--devkit DIR | --csv labels_df.csv]
//   [--out DIR] [--validation-split 0.2] [--seed 42] [--crop] [--overwrite]
// Builds train/ validation/ test/ folders named by class name. Output default: $CARS_DIR or data/stanford-cars.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareStanfordCars } from '../lib/data/prepare/cars';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    images: { type: 'string' },
    devkit: { type: 'string' },
    csv: { type: 'string' },
    'validation-split': { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '42' },
    crop: { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
  },
});
const root = path.resolve(__dirname, '..');
if (!values.images || (!values.devkit && !values.csv)) {
  console.error(
    'Usage: npm run prepare-cars -- --images DIR --devkit DIR (or --csv labels_df.csv) [--out DIR] [--crop]\n' +
      'DIR for --images holds cars_train/ and cars_test/ (the extracted image archives). The original Stanford\n' +
      'download URL is gone; get the archives from a mirror and place them there first.',
  );
  process.exit(2);
}
prepareStanfordCars({
  outDir: path.resolve(root, values.out ?? process.env.CARS_DIR ?? 'data/stanford-cars'),
  imagesDir: values.images,
  devkitDir: values.devkit,
  labelsCsv: values.csv,
  validationSplit: Number(values['validation-split']),
  seed: Number(values.seed),
  cropToBbox: values.crop,
  overwrite: values.overwrite,
  progress: true,
}).then(
  (dir) => console.log(`Done. Use it with CARS_DIR=${path.relative(root, dir) || dir}`),
  (e: Error) => {
    console.error(e.message);
    process.exit(1);
  },
);

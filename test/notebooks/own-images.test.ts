// Notebook 04 on folders a user points IMAGES_DIR at: a CSV of paths and labels, and a real folder
// of class folders (GTSRB-40's Train/, when ../shared/data is present). The generated messy folder
// (IMAGES_DIR unset) runs with the other notebooks in notebooks.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findJupyterPython, registerKernel, ROOT } from '../../scripts/platform/jupyter';
import { executeNotebook } from '../../scripts/platform/execute';
import { wilsonInterval } from '../../lib/evaluate/readings';
import { GTSRB40, skipUnless, tmpDir } from '../helpers';
import { writeSolid } from '../data/fixtures';

const python = findJupyterPython();
const NOTEBOOK = path.join(ROOT, 'notebooks', '04-your-own-images.ipynb');

type Output = { output_type: string; data?: Record<string, unknown>; text?: string | string[] };
type Cell = { cell_type: string; outputs?: Output[] };

/** Every text the executed notebook shows (streams and text/plain). */
function shownText(executed: string): string {
  const cells = JSON.parse(fs.readFileSync(executed, 'utf8')).cells as Cell[];
  return cells
    .flatMap((c) => c.outputs ?? [])
    .map((o) => [o.text, o.data?.['text/plain']].flat().filter(Boolean).join(''))
    .join('\n');
}

test(
  'notebook 04 trains on a CSV that IMAGES_DIR points at (labels by name, classes inferred)',
  { skip: python ? false : 'Jupyter is not installed (run `npm run setup`)', timeout: 15 * 60_000 },
  async () => {
    registerKernel();
    const dir = tmpDir('nb04-csv-');
    const rows = ['Path,ClassId'];
    const colours: Record<string, [number, number, number]> = {
      red: [220, 30, 30],
      green: [30, 200, 60],
      blue: [40, 60, 220],
    };
    for (const [name, rgb] of Object.entries(colours))
      for (let k = 0; k < 8; k++) {
        const file = `pics/${name}-${k}.png`;
        await writeSolid(path.join(dir, file), [rgb[0], rgb[1] + 3 * k, rgb[2]], 40, 40);
        rows.push(`${file},${name}`);
      }
    fs.writeFileSync(path.join(dir, 'labels.csv'), rows.join('\n') + '\n');
    const s = await executeNotebook(NOTEBOOK, {
      python: python!,
      outDir: tmpDir('nb04-csv-out-'),
      profile: 'quick',
      env: { IMAGES_DIR: path.join(dir, 'labels.csv'), GTSRB_DIR: '', CARS_DIR: '' },
    });
    assert.equal(s.ok, true, `cell In [${s.cell}]: ${s.error}`);
    const text = shownText(s.executed);
    assert.match(text, /Found 24 images in labels\.csv belonging to 3 classes\./);
    assert.match(text, /Using 18 files for training\./);
    assert.ok(
      (s.metrics.val_accuracy as number) > 1 / 3,
      `above chance: ${s.metrics.val_accuracy}`,
    );
  },
);

test(
  'notebook 04 on a real folder: GTSRB-40 Train/ (43 class folders of real photos)',
  {
    skip: !python
      ? 'Jupyter is not installed (run `npm run setup`)'
      : skipUnless(path.join(GTSRB40, 'Train')),
    timeout: 20 * 60_000,
  },
  async () => {
    registerKernel();
    const s = await executeNotebook(NOTEBOOK, {
      python: python!,
      outDir: tmpDir('nb04-gtsrb-'),
      profile: 'quick',
      env: { IMAGES_DIR: path.join(GTSRB40, 'Train'), GTSRB_DIR: '', CARS_DIR: '' },
    });
    assert.equal(s.ok, true, `cell In [${s.cell}]: ${s.error}`);
    const text = shownText(s.executed);
    assert.match(text, /belonging to 43 classes/);
    // Folder names sorted as strings, as Keras: '0', '1', '10', …
    assert.match(text, /No picture is in more than one split|in more than one split/);
    // Above chance beyond the 95% interval of this many validation images (the notebooks' lesson
    // rule). The offline stand-in transfers weakly to real photos (issue 27): 31/301 = 10.3% here
    // on 2026-12-06, interval 7.4–14.2%, chance 2.3%.
    const acc = s.metrics.val_accuracy as number;
    const n = s.metrics.val_images as number;
    const [low] = wilsonInterval(Math.round(acc * n), n);
    assert.ok(
      low > 1 / 43,
      `fine-tuned validation accuracy ${acc} on ${n} images, interval from ${low}, is above chance (1/43)`,
    );
  },
);

// Every tutorial notebook executes headless on the quick profile (the offline default) through the
// real Jupyter + tslab stack, and its executed copy holds what a reader expects to see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findJupyterPython, registerKernel, ROOT } from '../../scripts/platform/jupyter';
import { executeNotebook, findChromium, htmlToPdf } from '../../scripts/platform/execute';
import { tmpDir } from '../helpers';
import { heldModelProblems, lessonFor, reproducible, type Metrics } from './lessons';
import { readingProblems } from './readings-check';
import {
  externalReferences,
  longLines,
  missingReportRows,
  pdfText,
  placeholdersAfterRichOutputs,
  stderrBanners,
  type Notebook,
} from './report-checks';

const python = findJupyterPython();
const skip = python ? false : 'Jupyter is not installed (run `npm run setup`)';
const notebooks = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();

// Each notebook's first run, for the run-it-again test at the end.
const firstRuns = new Map<string, Metrics>();

type Output = { output_type: string; data?: Record<string, unknown>; text?: string | string[] };
type Cell = { cell_type: string; outputs?: Output[]; execution_count?: number | null };

test('four notebooks are committed without outputs', () => {
  assert.deepEqual(notebooks, [
    '01-resnet50-stanford-cars-transfer-learning.ipynb',
    '02-inceptionv3-stanford-cars-fine-tuning.ipynb',
    '03-vgg16-gtsrb-fine-tuning.ipynb',
    '04-your-own-images.ipynb',
  ]);
  for (const nb of notebooks) {
    const cells = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', nb), 'utf8'))
      .cells as Cell[];
    assert.ok(
      cells.every((c) => c.cell_type !== 'code' || (c.outputs ?? []).length === 0),
      `${nb} has outputs committed`,
    );
    assert.equal(
      JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', nb), 'utf8')).metadata.kernelspec
        .name,
      'tslab-finetune',
    );
  }
});

for (const nb of notebooks) {
  test(
    `${nb} runs headless (quick profile) with charts, a prediction grid and a results table`,
    { skip, timeout: 20 * 60_000 },
    async (t) => {
      registerKernel();
      const out = tmpDir('nb-');
      // Real data only through env: the quick profile's default must run offline.
      const env = { GTSRB_DIR: '', CARS_DIR: '', IMAGES_DIR: '' };
      const s = await executeNotebook(path.join(ROOT, 'notebooks', nb), {
        python: python!,
        outDir: out,
        profile: 'quick',
        env,
      });
      assert.equal(s.ok, true, `cell In [${s.cell}]: ${s.error}`);
      const executed = JSON.parse(fs.readFileSync(s.executed, 'utf8'));
      const outputs = (executed.cells as Cell[]).flatMap((c) => c.outputs ?? []);
      const mimes = (m: string) => outputs.filter((o) => o.data && m in o.data);
      const charts = mimes('image/svg+xml').filter(
        (o) => 'application/vnd.vegalite.v5+json' in o.data!,
      );
      assert.ok(charts.length >= 1, 'a vega-lite chart with its SVG');
      assert.ok(
        charts.every((o) => String(o.data!['image/svg+xml']).includes('<path')),
        'charts have drawn marks',
      );
      assert.ok(
        mimes('image/jpeg').length + mimes('image/png').length >= 2,
        'data overview and prediction grids',
      );
      // The walkthroughs compare with their published numbers; notebook 04 (your images) has none.
      const tables = mimes('text/html').filter((o) =>
        String(o.data!['text/html']).includes(
          nb.startsWith('04-') ? 'class="nb-results"' : 'published',
        ),
      );
      assert.ok(tables.length >= 1, 'a results table (beside the published numbers)');
      firstRuns.set(nb, s.metrics);
      const { backend, ...others } = s.metrics;
      const accuracies = reproducible(others);
      assert.match(
        String(backend),
        /^(onednn|tensorflow|wasm|cpu)$/,
        'the backend travels with the headline metrics',
      );
      assert.ok(Object.keys(accuracies).length >= 2, 'headline metrics');
      for (const [k, v] of Object.entries(accuracies))
        if (/accuracy|top\d/.test(k))
          assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `metric ${k} ${v} is an accuracy`);
      assert.equal(s.metrics.seed, 42, 'the seed travels to the report');
      // The "best" model the tables and phase 2 use is the epoch the log and chart name.
      assert.ok(
        Object.keys(others).some((k) => k.endsWith('held_val_loss')),
        'held_val_loss',
      );
      assert.deepEqual(heldModelProblems(s.metrics), [], `${nb}: ${JSON.stringify(s.metrics)}`);
      assert.ok(outputs.every((o) => o.output_type !== 'error'));
      // The walkthrough's lesson shows in the numbers (pretrained weights: ImageNet or the stand-in).
      assert.deepEqual(lessonFor(nb)?.(s.metrics) ?? [], [], `${nb}: ${JSON.stringify(s.metrics)}`);
      // Every computed sentence agrees with the run's numbers; 01–03 open with the disclosure.
      assert.deepEqual(
        readingProblems(executed as Notebook, s.metrics, {
          realData: false,
          walkthrough: !nb.startsWith('04-'),
        }),
        [],
      );
      const html = fs.readFileSync(s.html!, 'utf8');
      assert.ok(
        (html.match(/<svg/g) ?? []).length >= charts.length,
        'charts survive into the HTML report',
      );
      assert.match(html, /random initialisation|ImageNet/);
      // What a reader of the report sees (issue 12): each check lists what it found.
      assert.deepEqual(
        placeholdersAfterRichOutputs(executed as Notebook),
        [],
        'no placeholder text under rich outputs',
      );
      assert.deepEqual(stderrBanners(executed as Notebook), [], 'no tfjs banner');
      assert.deepEqual(
        longLines(executed as Notebook),
        [],
        'code lines within 100 columns (npm run format, then shorten what prettier cannot break)',
      );
      assert.deepEqual(externalReferences(html), [], 'the HTML report is one self-contained file');
      if (nb.startsWith('03-')) {
        // The printed report: the 43-row classification report whole, with its averages.
        const text = findChromium() ? pdfText(htmlToPdf(s.html!)) : null;
        if (text === null)
          t.diagnostic('Chromium or pdftotext (poppler-utils) is not installed: PDF check skipped');
        else
          assert.deepEqual(
            missingReportRows(
              text,
              Array.from({ length: 43 }, (_, i) => String(i)),
            ),
            [],
            'printed classification report',
          );
      }
    },
  );
}

// Keras' set_random_seed from the config cell fixes initialisers, dropout, shuffles and augmentation:
// running a notebook again (a new kernel, features now found in the cache) gives the same numbers.
const AGAIN = '03-vgg16-gtsrb-fine-tuning.ipynb';
test(
  `${AGAIN} run a second time gives identical headline metrics`,
  { skip, timeout: 20 * 60_000 },
  async (t) => {
    const first = firstRuns.get(AGAIN);
    if (!first) return t.skip(`the first run of ${AGAIN} did not complete in this process`);
    const out = tmpDir('nb-again-');
    const env = { GTSRB_DIR: '', CARS_DIR: '' };
    const s = await executeNotebook(path.join(ROOT, 'notebooks', AGAIN), {
      python: python!,
      outDir: out,
      profile: 'quick',
      env,
    });
    assert.equal(s.ok, true, `cell In [${s.cell}]: ${s.error}`);
    assert.deepEqual(reproducible(s.metrics), reproducible(first));
  },
);

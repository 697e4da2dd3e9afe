// A report reads as a document (issue 23): a table of contents, provenance under the title, image
// captions kept as text, the headline-metrics table left to the front matter, paths relative to the
// project or ~, a code-hidden twin, and reports/index.html tying the reports together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findJupyterPython, ROOT } from '../../scripts/platform/jupyter';
import { exportNotebook, noCodePath } from '../../scripts/platform/execute';
import { writeReportIndex } from '../../scripts/platform/report-index';
import { tmpDir } from '../helpers';

const python = findJupyterPython();

const PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function executed(dir: string): string {
  const cell = (id: string, source: string, outputs: unknown[]) => ({
    cell_type: 'code',
    id,
    metadata: {},
    execution_count: 1,
    source,
    outputs,
  });
  const md = (id: string, source: string) => ({ cell_type: 'markdown', id, metadata: {}, source });
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      md('m1', '# VGG16 on GTSRB\n\nWhat this notebook does.'),
      md('m2', '## Load the data'),
      cell('c1', 'const SECRET_CODE_LINE = 1;', [
        {
          output_type: 'stream',
          name: 'stdout',
          text: `cache in ${ROOT}/.cache/features, weights ${os.homedir()}/.keras/models/vgg16.h5\n`,
        },
      ]),
      md('m3', '## Predictions'),
      cell('c2', 'await nb.predictGrid(model, validDs);', [
        {
          output_type: 'display_data',
          metadata: {},
          data: { 'image/png': PIXEL_PNG, 'text/plain': 'Predictions: 14/18 correct' },
        },
      ]),
      cell('c3', 'nb.headlineMetrics({ val_accuracy: 0.5 });', [
        {
          output_type: 'display_data',
          metadata: {},
          data: {
            'application/vnd.nb.metrics+json': {
              val_accuracy: 0.5,
              weights: 'pretext stand-in (generated signs, not ImageNet)',
              data: 'generated signs (offline stand-in for GTSRB)',
              backend: 'onednn',
              seed: 42,
            },
            'text/markdown': '| metric | value |\n|---|---|\n| val_accuracy | 0.5000 |',
            'text/plain': 'val_accuracy: 0.5000',
          },
        },
      ]),
    ],
  };
  const file = path.join(dir, '03-vgg16.ipynb');
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

test(
  'a report has front matter (provenance, contents, links), captions, relative paths and a code-hidden twin',
  { skip: python ? false : 'Jupyter is not installed', timeout: 120_000 },
  async () => {
    const dir = tmpDir('report-doc-');
    const s = await exportNotebook(executed(dir), {
      python: python!,
      noCode: true,
      profile: 'quick',
    });
    assert.equal(s.ok, true, s.error);
    const html = fs.readFileSync(s.html!, 'utf8');
    // Title carries profile, data and weights.
    assert.match(
      html,
      /<title>03-vgg16 \(profile quick, generated signs .*, pretext stand-in .*\)<\/title>/,
    );
    // …and so does the line under the visible heading.
    assert.match(
      html,
      /<\/h1><div class="nb-front">.*<p class="nb-subtitle"><strong>profile quick, generated signs .*, pretext stand-in .*<\/strong><\/p>/s,
    );
    // Provenance under the title.
    for (const fact of ['git commit', 'command', 'CPU', 'backend', 'seed', 'date'])
      assert.match(html, new RegExp(`<th>${fact}</th>`), fact);
    assert.match(html, /<th>seed<\/th><td>42<\/td>/);
    // A table of contents linking every section heading.
    assert.match(
      html,
      /<nav class="nb-toc">.*href="#Load-the-data">Load the data<\/a>.*href="#Predictions">Predictions<\/a>/s,
    );
    assert.match(html, /<a href="index.html">All reports<\/a>/);
    // The image's text is a visible caption.
    assert.match(html, /<pre class="nb-caption">Predictions: 14\/18 correct<\/pre>/);
    // The machine-style metrics table is not repeated in the report.
    assert.doesNotMatch(html, /metric \| value|<td>val_accuracy<\/td>/);
    // Paths relative to the project or ~.
    assert.match(html, /cache in \.cache\/features, weights ~\/\.keras\/models\/vgg16\.h5/);
    assert.ok(!html.includes(`${ROOT}/`), 'no absolute project path');
    // The code-hidden report: outputs and text, no code.
    assert.match(html, /SECRET_CODE_LINE/);
    const noCode = fs.readFileSync(noCodePath(s.html!), 'utf8');
    assert.doesNotMatch(noCode, /SECRET_CODE_LINE/);
    assert.match(noCode, /Predictions: 14\/18 correct/);

    // The index links both reports and shows the headline numbers.
    const index = fs.readFileSync(
      writeReportIndex([s], dir, { profile: 'quick', seconds: 12 }),
      'utf8',
    );
    assert.match(
      index,
      /<strong>VGG16 on GTSRB<\/strong><br><a href="03-vgg16.html">report<\/a> · <a href="03-vgg16.nocode.html">without code<\/a>/,
    );
    assert.match(index, /val_accuracy 0\.5000/);
    assert.match(index, /<th>total runtime<\/th><td>12 s<\/td>/);
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import {
  compareHistories,
  historyChartSpec,
  plotLearningRate,
  plotPhases,
} from '../../lib/charts/history';
import { plotConfusionMatrix } from '../../lib/charts/confusion';
import { specToSvg, type VegaLiteSpec } from '../../lib/charts/render';
import { confusionMatrix } from '../../lib/evaluate/metrics';
import { syntheticHistory } from './fixtures';

/** vega's own (asynchronous) headless SVG export: the reference for our synchronous renderer. */
async function vegaSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

test('specToSvg (synchronous) gives exactly the SVG of vega view.toSVG() for every chart type', async () => {
  const h = syntheticHistory({ epochs: 15, halveEvery: 5 });
  const specs: VegaLiteSpec[] = [
    historyChartSpec(h, { topK: 3 }),
    plotPhases([h, syntheticHistory({ epochs: 5, start: 15, name: 'fine-tuning' })], {
      show: false,
    }).spec,
    compareHistories(
      { a: h, b: syntheticHistory({ epochs: 9, level: 0.3, notes: ['random initialisation'] }) },
      { metric: ['accuracy', 'loss'], show: false },
    ).spec,
    plotLearningRate(h, { show: false }).spec,
    plotConfusionMatrix(confusionMatrix([0, 1, 2, 2, 1], [0, 2, 2, 1, 1], 3), ['a', 'b', 'c'], {
      show: false,
    }).spec,
  ];
  for (const spec of specs) {
    const ours = specToSvg(spec);
    assert.ok(ours.length > 2000);
    // Gradient ids come from a process-wide counter (gradient_1, gradient_2, ...): compare without them.
    const normalise = (svg: string) => svg.replace(/gradient_\d+/g, 'gradient_N');
    assert.equal(normalise(ours), normalise(await vegaSvg(spec)));
  }
});

test('specToSvg refuses data it would have to fetch', () => {
  const spec = {
    data: { url: 'https://example.invalid/data.json' },
    mark: 'point',
    encoding: { x: { field: 'a', type: 'quantitative' } },
  } as VegaLiteSpec;
  assert.throws(() => specToSvg(spec), /pass data inline/);
});

// The notebooks' code cells type-check against lib/index.ts under tslab's own compiler and options:
// a renamed or unexported cell, or a changed option type, fails here instead of in the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { notebookSources, tslabDiagnostics } from '../../scripts/platform/tslab-check';
import { ROOT } from '../helpers';

test("every notebook's code cells compile against lib/index.ts as tslab compiles them", () => {
  const sources = notebookSources();
  assert.ok(sources.size >= 3, `found ${sources.size} notebooks`);
  const [first] = sources.keys();
  assert.deepEqual(tslabDiagnostics(first, sources), []);
});

test('the check sees a cell that calls what lib/index.ts does not export', () => {
  const bad = path.join(ROOT, 'bad-notebook.ipynb.ts');
  const sources = new Map([
    [bad, 'export {};\nimport * as nb from "./lib/index";\nawait nb.notACell({ epochs: 3 });'],
  ]);
  const diags = tslabDiagnostics(bad, sources);
  assert.ok(
    diags.some((d) => /bad-notebook\.ipynb\.ts:3:.*notACell/.test(d)),
    diags.join('\n'),
  );
});

test('a config written `as const` passes its sizes to every cell that takes one, without casts', () => {
  const file = path.join(ROOT, 'readonly-sizes.ipynb.ts');
  const cell = [
    'export {};',
    'import * as nb from "./lib/index";',
    'const cfg = nb.profileConfig({ quick: { imageSize: [64, 64] }, full: { imageSize: [224, 224] } } as const);',
    'const size = cfg.imageSize;',
    'declare const model: Awaited<ReturnType<typeof nb.resnet50>>;',
    'const gen = new nb.ImageDataGenerator({ zoomRange: [0.9, 1.1], brightnessRange: [0.8, 1.2], widthShiftRange: [2, 4] } as const);',
    'nb.imageDatasetFromDirectory("d", { imageSize: size });',
    'nb.flowFromDirectory("d", { targetSize: size });',
    'gen.flowFromDirectory("d", { targetSize: size });',
    'nb.datasetFromCsv("t.csv", { imageSize: size });',
    'await nb.previewAugmentation("a.png", gen, { imageSize: size });',
    'await nb.resnet50({ includeTop: false, inputShape: [...size, 3] as const });',
    'await nb.predictImage(model, "a.png", { classNames: [], imageSize: size });',
    'await nb.gradCam(model, "a.png", { imageSize: size });',
    'await nb.exportForWeb(model, "d", { classNames: [], preprocessing: { mode: "resnet50", imageSize: size } });',
    'nb.HEADS.inceptionV3Cars({ units: [512, 256] as const });',
  ].join('\n');
  assert.deepEqual(tslabDiagnostics(file, new Map([[file, cell]])), []);
});

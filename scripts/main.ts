// `npm start`: set up (idempotent), then run every notebook headless on the quick profile and
// export reports/<name>.html, printing status, wall time and headline metrics per notebook.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup, ROOT } from './platform/jupyter';
import { executeNotebook, formatSummary, type RunSummary } from './platform/execute';
import { writeReportIndex } from './platform/report-index';
import { prepareWeights } from './prepare-weights';

async function main() {
  const t0 = Date.now();
  const { python, native } = setup();
  console.log(native);
  const profile = (process.env.NB_PROFILE as 'quick' | 'full' | undefined) ?? 'quick';
  // The bases' weights before the notebooks: ImageNet when it can be had, else the one-time pretext
  // pretraining (minutes, with progress) — so each notebook's time below is its own.
  if (profile === 'quick') {
    const t = Date.now();
    await prepareWeights();
    console.log(`weights ready in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  const dir = path.join(ROOT, 'notebooks');
  const notebooks = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  console.log(`Running ${notebooks.length} notebooks (profile ${profile}) -> reports/`);
  let failed = 0;
  const runs: RunSummary[] = [];
  for (const nb of notebooks) {
    // Each report twice: with the code, and without it (outputs and text only).
    const s = await executeNotebook(path.join(dir, nb), { python, profile, noCode: true });
    console.log(formatSummary(s));
    runs.push(s);
    if (!s.ok) failed++;
  }
  const seconds = (Date.now() - t0) / 1000;
  const index = writeReportIndex(runs, path.join(ROOT, 'reports'), { profile, seconds });
  console.log(
    `${notebooks.length - failed}/${notebooks.length} notebooks OK in ${seconds.toFixed(0)} s -> ${path.relative(ROOT, index)}`,
  );
  if (failed) process.exit(1);
}
main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});

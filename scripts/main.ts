// `npm start`: set up (idempotent), then run every notebook headless on the quick profile and
// export reports/<name>.html, printing status, wall time and headline metrics per notebook.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup, ROOT } from './platform/jupyter';
import { executeNotebook, formatSummary } from './platform/execute';
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
  for (const nb of notebooks) {
    const s = await executeNotebook(path.join(dir, nb), { python, profile });
    console.log(formatSummary(s));
    if (!s.ok) failed++;
  }
  console.log(
    `${notebooks.length - failed}/${notebooks.length} notebooks OK in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  if (failed) process.exit(1);
}
main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});

// `npm run report -- <notebook> [--profile quick|full] [--pdf]`: execute one notebook, export it.
import { parseArgs } from 'node:util';
import { setup } from './platform/jupyter';
import { executeNotebook, formatSummary } from './platform/execute';

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { profile: { type: 'string' }, pdf: { type: 'boolean', default: false }, out: { type: 'string' }, verbose: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) {
    console.error('usage: npm run report -- <notebook.ipynb> [--profile quick|full] [--pdf] [--out DIR]');
    process.exit(2);
  }
  const profile = values.profile as 'quick' | 'full' | undefined;
  if (profile && profile !== 'quick' && profile !== 'full') {
    console.error(`--profile must be quick or full, not "${profile}"`);
    process.exit(2);
  }
  const { python } = setup();
  const s = await executeNotebook(positionals[0], { python, profile, pdf: values.pdf, outDir: values.out, verbose: values.verbose });
  console.log(formatSummary(s));
  if (s.pdf) console.log(`      -> ${s.pdf}`);
  if (!s.ok) {
    console.error(`Notebook ${s.notebook} failed in cell In [${s.cell}]:\n${s.error}`);
    process.exit(1);
  }
}
main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});

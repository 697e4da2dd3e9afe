// `npm run report -- <notebook> [--profile quick|full] [--pdf] [--no-execute]`: execute one notebook
// and export it; or export an executed one (reports/<name>.ipynb, or --no-execute) without running it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, findJupyterPython, setup } from './platform/jupyter';
import { executeNotebook, exportNotebook, formatSummary, isExecuted } from './platform/execute';

const USAGE = `usage: npm run report -- <notebook.ipynb> [--profile quick|full] [--pdf] [--no-code] [--out DIR] [--no-execute]

  notebooks/<name>.ipynb                 execute it, write reports/<name>.ipynb + .html (+ .pdf)
  notebooks/<name>.ipynb --no-execute    export reports/<name>.ipynb as it is (no kernel)
  reports/<name>.ipynb                   an executed notebook: export it as it is (no kernel)
  --no-code                              also write <name>.nocode.html: the report without the code`;

/** The executed notebook to export when nothing should run, or null to execute `notebook`. */
export function exportSource(notebook: string, noExecute: boolean, outDir?: string): string | null {
  const given = path.resolve(notebook);
  if (fs.existsSync(given) && isExecuted(given)) return given;
  if (!noExecute) return null;
  const executed = path.join(
    path.resolve(outDir ?? path.join(ROOT, 'reports')),
    path.basename(given),
  );
  if (!fs.existsSync(executed))
    throw new Error(
      `--no-execute: ${executed} does not exist; run the notebook once first: npm run report -- ${notebook}`,
    );
  return executed;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      pdf: { type: 'boolean', default: false },
      out: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'no-execute': { type: 'boolean', default: false },
      'no-code': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) {
    console.error(USAGE);
    process.exit(2);
  }
  const profile = values.profile as 'quick' | 'full' | undefined;
  if (profile && profile !== 'quick' && profile !== 'full') {
    console.error(`--profile must be quick or full, not "${profile}"`);
    process.exit(2);
  }
  const source = exportSource(positionals[0], values['no-execute']!, values.out);
  let s;
  if (source) {
    if (profile)
      console.error(
        `--profile ${profile} is ignored: ${path.relative(process.cwd(), source)} is exported as it was executed.`,
      );
    // Exporting needs nbconvert only, not the kernel set-up.
    const python = findJupyterPython() ?? setup().python;
    s = await exportNotebook(source, {
      python,
      pdf: values.pdf,
      outDir: values.out,
      verbose: values.verbose,
      noCode: values['no-code'],
      profile,
    });
  } else {
    const { python } = setup();
    s = await executeNotebook(positionals[0], {
      python,
      profile,
      pdf: values.pdf,
      outDir: values.out,
      verbose: values.verbose,
      noCode: values['no-code'],
    });
  }
  console.log(formatSummary(s));
  if (s.pdf) console.log(`      -> ${s.pdf}`);
  if (!s.ok) {
    console.error(
      `Notebook ${s.notebook} failed${s.cell ? ` in cell In [${s.cell}]` : ''}:\n${s.error}`,
    );
    process.exit(1);
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}

// One formatter for the library and the notebooks: prettier, with the project's .prettierrc, on
// every code cell of notebooks/*.ipynb (prettier cannot read .ipynb files itself).
//
//   tsx scripts/format-notebooks.ts           rewrite the cells that differ
//   tsx scripts/format-notebooks.ts --check   list them and exit 1 (CI)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../lib/io/atomic';

/** The part of prettier's API used here (prettier 3: async). */
interface Prettier {
  format(source: string, options: Record<string, unknown>): Promise<string>;
  resolveConfig(file: string): Promise<Record<string, unknown> | null>;
}

interface Cell {
  cell_type: string;
  id?: string;
  source: string | string[];
}

const ROOT = path.resolve(__dirname, '..');
const NOTEBOOKS = path.join(ROOT, 'notebooks');

function loadPrettier(): Prettier {
  try {
    return require('prettier') as Prettier;
  } catch {
    console.error(
      'prettier is not installed: run `npm install --save-dev prettier` (the project formatter).',
    );
    process.exit(2);
  }
}

/** Jupyter stores a cell's source as lines, each but the last ending in "\n". */
function sourceLines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const prettier = loadPrettier();
  const options = {
    ...(await prettier.resolveConfig(path.join(ROOT, 'lib', 'index.ts'))),
    parser: 'typescript',
  };
  const differing: string[] = [];
  for (const name of fs
    .readdirSync(NOTEBOOKS)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()) {
    const file = path.join(NOTEBOOKS, name);
    const raw = fs.readFileSync(file, 'utf8');
    const notebook = JSON.parse(raw) as { cells: Cell[] };
    for (const [i, cell] of notebook.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      let formatted: string;
      try {
        formatted = (await prettier.format(source, options)).replace(/\n$/, '');
      } catch (e) {
        throw new Error(
          `notebooks/${name}, cell ${cell.id ?? i}: prettier cannot parse it: ${(e as Error).message}`,
        );
      }
      if (formatted === source) continue;
      differing.push(`notebooks/${name}, cell ${cell.id ?? i}`);
      cell.source = sourceLines(formatted);
    }
    const out = `${JSON.stringify(notebook, null, 1)}\n`;
    if (!check && out !== raw) writeFileAtomic(file, out);
  }
  if (check && differing.length) {
    console.error(`Code cells not formatted (run \`npm run format\`):\n${differing.join('\n')}`);
    process.exit(1);
  }
  console.log(
    check
      ? 'notebook code cells are formatted'
      : `formatted ${differing.length} notebook code cell(s)`,
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

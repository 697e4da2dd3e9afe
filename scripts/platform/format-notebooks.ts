// `npm run format:notebooks [-- --all] [--check] [files...]`: prettier (printWidth 100) over the code
// cells of notebooks/*.ipynb that have a line over 100 columns (--all: every code cell), so no line
// scrolls sideways in the HTML report or is cut in print. Cells within 100 columns keep the author's
// layout (prettier would put each key of a config object on its own line). `longCodeLines` is the
// check the notebook tests use.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The widest code line a notebook may have (HTML and print show 100 columns). */
export const MAX_CODE_COLUMNS = 100;

export const PRETTIER_OPTIONS = { parser: 'typescript', printWidth: MAX_CODE_COLUMNS, singleQuote: false, trailingComma: 'all' } as const;

interface NotebookCell {
  cell_type: string;
  source: string | string[];
}
interface NotebookJson {
  cells: NotebookCell[];
}

export interface LongLine {
  /** 1-based number among the code cells (the "In [n]" of an executed report). */
  cell: number;
  /** 1-based line in the cell. */
  line: number;
  length: number;
  text: string;
}

const sourceOf = (c: NotebookCell) => (Array.isArray(c.source) ? c.source.join('') : c.source);

/** Code lines longer than `max` columns (a notebook file or its parsed JSON). */
export function longCodeLines(notebook: string | NotebookJson, max = MAX_CODE_COLUMNS): LongLine[] {
  const nb: NotebookJson = typeof notebook === 'string' ? JSON.parse(fs.readFileSync(notebook, 'utf8')) : notebook;
  const long: LongLine[] = [];
  nb.cells
    .filter((c) => c.cell_type === 'code')
    .forEach((c, i) =>
      sourceOf(c)
        .split('\n')
        .forEach((text, j) => {
          // Columns as a reader counts them: characters, not UTF-16 units.
          const length = [...text].length;
          if (length > max) long.push({ cell: i + 1, line: j + 1, length, text });
        }),
    );
  return long;
}

/** Jupyter's own layout for a cell's source: lines with their newline, the last without. */
function toSourceLines(code: string): string[] {
  const lines = code.split('\n');
  return lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l)).filter((l) => l !== '');
}

type Prettier = { format(code: string, opts: object): Promise<string> | string };

function loadPrettier(): Prettier {
  try {
    return require('prettier') as Prettier;
  } catch {
    throw new Error('The notebook formatter needs prettier: run `npm install -D prettier` in the project root.');
  }
}

/**
 * Format the code cells that have a line over 100 columns (`all`: every code cell); returns the
 * cells that changed (1-based code cell numbers). `check`: report only, write nothing.
 */
export async function formatNotebook(file: string, opts: { check?: boolean; all?: boolean; prettier?: Prettier } = {}): Promise<number[]> {
  const prettier = opts.prettier ?? loadPrettier();
  const raw = fs.readFileSync(file, 'utf8');
  const nb = JSON.parse(raw) as NotebookJson;
  const changed: number[] = [];
  let n = 0;
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    n++;
    const before = sourceOf(cell);
    if (!opts.all && !before.split('\n').some((l) => [...l].length > MAX_CODE_COLUMNS)) continue;
    let after: string;
    try {
      after = (await prettier.format(before, PRETTIER_OPTIONS)).replace(/\n+$/, '');
    } catch (e) {
      throw new Error(`${file}, code cell ${n}: prettier cannot parse it: ${(e as Error).message.split('\n')[0]}`);
    }
    if (after !== before) {
      changed.push(n);
      cell.source = toSourceLines(after);
    }
  }
  if (changed.length && !opts.check) {
    // Jupyter's layout (one-space indent, trailing newline), written atomically.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(nb, null, 1) + '\n');
    fs.renameSync(tmp, file);
  }
  return changed;
}

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const root = path.resolve(__dirname, '..', '..');
  const files = args.filter((a) => !a.startsWith('--'));
  const notebooks = files.length ? files : fs.readdirSync(path.join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort().map((f) => path.join(root, 'notebooks', f));
  let problems = 0;
  for (const file of notebooks) {
    const changed = await formatNotebook(file, { check, all: args.includes('--all') });
    const long = longCodeLines(file);
    const name = path.relative(process.cwd(), file);
    if (changed.length) console.log(`${check ? 'needs formatting' : 'formatted'}: ${name}, code cells ${changed.join(', ')}`);
    for (const l of long) console.log(`${name}: code cell ${l.cell}, line ${l.line}: ${l.length} columns (max ${MAX_CODE_COLUMNS}; prettier cannot break it: shorten it by hand)`);
    if ((check && changed.length) || long.length) problems++;
  }
  if (problems) process.exit(1);
}

if (require.main === module) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}

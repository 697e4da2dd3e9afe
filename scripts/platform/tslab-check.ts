// Type-check the library the way tslab will when a notebook imports it: tslab ignores
// tsconfig.json and compiles with its own bundled TypeScript and fixed, non-strict options
// (see node_modules/tslab/dist/converter.js). Code that passes our strict tsconfig can still
// fail there (e.g. discriminated unions do not narrow without strictNullChecks), and the cell
// then reports "l:c - message" without a file name, so we check it here first.
import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require('@tslab/typescript-for-tslab') as typeof import('typescript');

/**
 * Each notebook's code cells joined into one module, keyed by a virtual file name beside the
 * notebook (so `./lib/index` resolves as in the kernel, which starts in the project root).
 */
export function notebookSources(
  dir = path.join(__dirname, '..', '..', 'notebooks'),
): Map<string, string> {
  const sources = new Map<string, string>();
  for (const name of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()) {
    const cells = (
      JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as {
        cells: { cell_type: string; source: string | string[] }[];
      }
    ).cells;
    const code = cells
      .filter((c) => c.cell_type === 'code')
      .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
    // `export {}` makes it a module, as tslab compiles cells (top-level await allowed).
    sources.set(path.join(path.dirname(dir), `${name}.ts`), ['export {};', ...code].join('\n'));
  }
  return sources;
}

/** tslab's diagnostics for `entry` (a file, or a name in `sources`) and any further in-memory `sources`. */
export function tslabDiagnostics(
  entry: string,
  sources: Map<string, string> = new Map(),
): string[] {
  const options: import('typescript').CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    declaration: true,
    emitDeclarationOnly: true,
    experimentalDecorators: true,
    resolveJsonModule: true,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    outDir: path.join(require('node:os').tmpdir(), 'tslab-check'),
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => sources.has(path.resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => sources.get(path.resolve(f)) ?? readFile.call(host, f);
  host.getSourceFile = (f, version, ...rest) => {
    const text = sources.get(path.resolve(f));
    return text === undefined
      ? getSourceFile.call(host, f, version, ...rest)
      : ts.createSourceFile(f, text, version);
  };
  const program = ts.createProgram(
    [entry, ...[...sources.keys()].filter((f) => f !== entry)],
    options,
    host,
  );
  const diags = [...ts.getPreEmitDiagnostics(program)];
  // Declaration emit errors ("has or is using private name") only show up when emitting.
  const emitted = program.emit(undefined, () => undefined, undefined, true);
  diags.push(...emitted.diagnostics);
  return diags.map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return msg;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${path.relative(process.cwd(), d.file.fileName)}:${line + 1}:${character + 1} - ${msg}`;
  });
}

if (require.main === module) {
  // Default: the library and every notebook's code cells against it; or one entry file.
  const entry = path.resolve(
    process.argv[2] ?? path.join(__dirname, '..', '..', 'lib', 'index.ts'),
  );
  const diags = tslabDiagnostics(entry, process.argv[2] ? new Map() : notebookSources());
  for (const d of diags) console.log(d);
  console.log(
    diags.length
      ? `${diags.length} problem(s) tslab would report`
      : 'tslab compiles the library and the notebooks cleanly',
  );
  process.exit(diags.length ? 1 : 0);
}

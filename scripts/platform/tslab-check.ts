// Type-check the library the way tslab will when a notebook imports it: tslab ignores
// tsconfig.json and compiles with its own bundled TypeScript and fixed, non-strict options
// (see node_modules/tslab/dist/converter.js). Code that passes our strict tsconfig can still
// fail there (e.g. discriminated unions do not narrow without strictNullChecks), and the cell
// then reports "l:c - message" without a file name, so we check it here first.
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require('@tslab/typescript-for-tslab') as typeof import('typescript');

export function tslabDiagnostics(entry: string): string[] {
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
  const program = ts.createProgram([entry], options);
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
  const entry = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '..', 'lib', 'index.ts'));
  const diags = tslabDiagnostics(entry);
  for (const d of diags) console.log(d);
  console.log(diags.length ? `${diags.length} problem(s) tslab would report` : 'tslab compiles the library cleanly');
  process.exit(diags.length ? 1 : 0);
}

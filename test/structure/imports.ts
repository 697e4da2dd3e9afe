// The import graph of lib/, read from the source text: what the layering and the import-cycle
// tests check. Type-only imports count too (a type cycle is still a cycle to a reader).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const LIB = path.resolve(__dirname, '..', '..', 'lib');

export function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.(ts|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative specifiers of import/export-from, import() and require() with a string literal. */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+'(\.[^']*)'/g,
    /\bimport\s+'(\.[^']*)'/g,
    /\bimport\(\s*'(\.[^']*)'\s*\)/g,
    /\brequire\(\s*'(\.[^']*)'\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

export function resolveInLib(fromFile: string, spec: string): string | null {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile())
      return path.relative(LIB, candidate).split(path.sep).join('/');
  }
  return null;
}

export interface Edge {
  from: string;
  to: string;
  spec: string;
}

export function libEdges(): Edge[] {
  return sourceFiles(LIB).flatMap((file) => {
    const from = path.relative(LIB, file).split(path.sep).join('/');
    return relativeImports(fs.readFileSync(file, 'utf8')).map((spec) => {
      const to = resolveInLib(file, spec);
      assert.ok(
        to,
        `lib/${from} imports '${spec}', which is not a file in lib/ (or points outside lib/).`,
      );
      return { from, to, spec };
    });
  });
}

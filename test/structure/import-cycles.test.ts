// No import cycle anywhere under lib/: a module graph with a cycle loads in an order that depends
// on who imports first (tslab compiles cells to CommonJS, where the second module of a cycle sees
// the first one half-initialised), and it cannot be read bottom-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { libEdges } from './imports';

/** Each cycle met in a depth-first walk, as 'a -> b -> a'. */
function importCycles(edges: { from: string; to: string }[]): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const to of next.get(node) ?? []) {
      if (state.get(to) === 'open')
        found.push([...stack.slice(stack.indexOf(to)), to].join(' -> '));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...next.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

test('no import cycle under lib/ (type-only imports included)', () => {
  const cycles = importCycles(libEdges());
  assert.deepEqual(
    cycles,
    [],
    `import cycles in lib/ (move what both need into a lower module, or pass it in):\n${cycles.join('\n')}`,
  );
});

test('the cycle check finds a direct and an indirect cycle, and none in a chain', () => {
  assert.deepEqual(
    importCycles([
      { from: 'a.ts', to: 'b.ts' },
      { from: 'b.ts', to: 'a.ts' },
      { from: 'c.ts', to: 'd.ts' },
      { from: 'd.ts', to: 'e.ts' },
      { from: 'e.ts', to: 'c.ts' },
      { from: 'f.ts', to: 'c.ts' },
    ]),
    ['a.ts -> b.ts -> a.ts', 'c.ts -> d.ts -> e.ts -> c.ts'],
  );
  assert.deepEqual(importCycles([{ from: 'a.ts', to: 'b.ts' }]), []);
});

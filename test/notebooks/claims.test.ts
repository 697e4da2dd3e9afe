// No markdown sentence claims an outcome of this run (issue 23): what a run did — overfits, improves,
// beats, memorises, stays near chance — is said by the readings (lib/evaluate/readings.ts), computed
// from the run. Markdown states the method, conditions ("when the validation loss rises …") and what
// the walkthrough reported. This test lists every markdown sentence with an outcome word that is
// neither attributed to the walkthrough nor a condition, and fails on any.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers';

/** Words that state how a run turned out. */
const OUTCOME =
  /\b(overfit\w*|memoris\w*|improv\w*|beats?|outperform\w*|learned (?:nothing|little)|near chance|far above|far better|climbs|ends higher|gains?|cuts? the)\b/i;
/** Sentences that say what the walkthrough found, describe a method or a condition, or point to a reading. */
const NOT_A_CLAIM =
  /walkthrough|published|\bwould\b|\bwhen\b|\bif\b|\bshould\b|\bcan\b|\bmay\b|\bmight\b|\busually\b|\boften\b|\btry\b|reading|Keras|guard|against|works? against|helps?\b|whether|\bavoid|^There\b/i;

export function outcomeClaims(markdown: string): string[] {
  const prose = markdown
    .replace(/```[\s\S]*?```/g, ' ') // code blocks
    .replace(/`[^`]*`/g, 'CODE')
    .replace(/\s+/g, ' ');
  return prose
    .split(/(?<=[.!?:])\s+(?=[A-Z*(])|^#+ |\s#+ /)
    .map((s) => s.trim())
    .filter((s) => OUTCOME.test(s) && !NOT_A_CLAIM.test(s));
}

test('outcomeClaims flags a claim about this run and lets method and the walkthrough through', () => {
  assert.deepEqual(outcomeClaims('The curves show the head memorising its training images.'), [
    'The curves show the head memorising its training images.',
  ]);
  assert.deepEqual(
    outcomeClaims(
      'In the walkthrough the model overfits early. When the validation loss rises, it overfits.',
    ),
    [],
  );
});

for (const file of fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))) {
  test(`${file}: no markdown sentence claims an outcome of this run`, () => {
    const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', file), 'utf8')) as {
      cells: { cell_type: string; source: string | string[] }[];
    };
    const claims = nb.cells
      .filter((c) => c.cell_type === 'markdown')
      .flatMap((c) => outcomeClaims([c.source].flat().join('')));
    assert.deepEqual(claims, [], 'computed by a reading cell instead (lib/evaluate/readings.ts)');
  });
}

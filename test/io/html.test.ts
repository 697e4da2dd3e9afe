// The one HTML/XML escape, and no second copy of it in lib/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeHtml } from '../../lib/io/html';

test('escapeHtml makes any text safe inside an element or a double-quoted attribute', () => {
  assert.equal(escapeHtml('a & b <c> "d"'), 'a &amp; b &lt;c&gt; &quot;d&quot;');
  assert.equal(escapeHtml('&amp;'), '&amp;amp;'); // text, not markup: escaped again
  assert.equal(escapeHtml('Speed limit (30km/h)'), 'Speed limit (30km/h)');
});

test('lib/ escapes HTML in one place: lib/io/html.ts', () => {
  const lib = path.resolve(__dirname, '..', '..', 'lib');
  const files = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) =>
        e.isDirectory()
          ? files(path.join(dir, e.name))
          : /\.ts$/.test(e.name)
            ? [path.join(dir, e.name)]
            : [],
      );
  const copies = files(lib)
    .filter((f) => path.relative(lib, f) !== path.join('io', 'html.ts'))
    .filter((f) => /'&amp;'|"&amp;"|'&lt;'|"&lt;"/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(lib, f));
  assert.ok(files(lib).length > 50, 'the scan found too few files in lib/');
  assert.deepEqual(
    copies,
    [],
    'these files escape HTML themselves; import escapeHtml from lib/io/html.ts instead',
  );
});

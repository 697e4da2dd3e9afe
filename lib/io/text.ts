// Escaping user strings (class names, file names, folders) for each output format that is not HTML
// (lib/io/html.ts): Markdown, plain text and the shell commands the library prints. A class folder
// may be named anything a file system allows: `<img src=x onerror=alert(1)>`, `a|b`, `*bold*`,
// a newline, an ANSI escape that recolours a terminal, a right-to-left override that reverses
// what follows it.
import * as os from 'node:os';
import * as path from 'node:path';
import { escapeControls } from './controls';
import { escapeHtml } from './html';

export { escapeControls };

/**
 * Text for Markdown (a table cell, a caption): HTML-significant characters as entities (Markdown
 * passes raw HTML through), Markdown punctuation backslash-escaped, line breaks as spaces (a
 * newline would end a table row), control characters made visible.
 */
export function escapeMarkdown(s: string): string {
  return escapeHtml(s.replace(/\r\n?|\n/g, ' ')).replace(/[\\`*_[\]|~#!()]/g, '\\$&');
}

/**
 * Text for a terminal or a text/plain output: control and direction characters shown as `\u{…}`
 * (an ESC would start a terminal escape sequence, U+202E would reverse the rest of the line),
 * newlines as `\n`, so one name stays on one line and reads as it is spelled.
 */
export function toPlainText(s: string): string {
  return escapeControls(s.replace(/\n/g, '\\n'));
}

/**
 * One argument for a POSIX shell: as it is when it holds only characters a shell leaves alone,
 * else in single quotes (a `'` inside as `'\''`), so a folder with spaces, `$`, `;` or quotes
 * pastes as one argument and runs nothing.
 */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A path or name as Markdown inline code: a fence one backtick longer than the longest run of
 * backticks inside (CommonMark), so `a`b` stays one code span; line breaks as spaces.
 */
export function markdownCode(s: string): string {
  const t = escapeControls(s.replace(/\r\n?|\n/g, ' '));
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A path as a reader should see it: relative to the project when inside it, else with ~ for the home folder. */
export function displayPath(p: string): string {
  const abs = path.resolve(p);
  const root = path.resolve(__dirname, '..', '..');
  if (abs === root) return '.';
  if (abs.startsWith(root + path.sep)) return path.relative(root, abs);
  const home = os.homedir();
  if (home && (abs === home || abs.startsWith(home + path.sep)))
    return '~' + abs.slice(home.length);
  return abs;
}

// Characters no output should carry as they are: they are invisible, or they move, recolour or
// rewrite the text around them (a terminal obeys ESC sequences; U+202E reverses what follows it).
// Shared by the HTML/XML escape (lib/io/html.ts) and the text escapes (lib/io/text.ts).

// C0 controls but tab, DEL and C1 controls, the bidirectional overrides and isolates, and the line
// and paragraph separators: invisible, or they move or recolour the text around them.
const INVISIBLE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/g;

/**
 * A whole text output (several lines) made safe for a terminal: line breaks and tabs kept, every
 * other control or direction character shown as `\u{…}`. Every text/plain output goes through it.
 */
export function escapeControls(s: string): string {
  return s.replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

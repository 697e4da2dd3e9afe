// HTML/XML escaping for text put into tables, titles and SVG labels.

/** Escape `& < > "` so any text can go inside an element or a double-quoted attribute. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

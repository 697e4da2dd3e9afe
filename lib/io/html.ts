// HTML/XML escaping for text put into tables, titles and SVG labels.

import { escapeControls } from './controls';

/**
 * Escape `& < > "` so any text can go inside an element or a double-quoted attribute. Control
 * characters are shown as `\u{…}`: XML (an SVG overlay, which sharp parses) cannot hold them at all.
 */
export function escapeHtml(s: string): string {
  return escapeControls(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

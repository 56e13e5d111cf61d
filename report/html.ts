import { ASSETS } from './paths.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A number for a table cell: fixed decimals, ∞ for an infinity, an en dash when missing (or NaN). */
export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return value.toFixed(digits);
}

/**
 * A whole standalone page. `root` is the way back to `report/` from the page ('' or '../'): the shared
 * stylesheet and script are linked relative to it, so the folder works from disk and any static host; the
 * page loads nothing else from anywhere.
 */
export function page(title: string, body: string, root = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${root}${ASSETS.css}">
<script src="${root}${ASSETS.js}" defer></script>
</head>
<body>
${body}
</body>
</html>
`;
}

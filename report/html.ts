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

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; } h3 { font-size: 1.05em; margin: 0.4em 0; }
code { background: #f3f3f3; padding: 0 0.25em; border-radius: 3px; word-break: break-all; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; }
section.neuron { border-top: 2px solid #ccc; padding-top: 0.5em; margin-top: 1.2em; }
.methods { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
.vn { margin: 0.4em 0 0.8em; }
.vn .meta { font-size: 0.9em; color: #444; margin-bottom: 0.2em; }
.thumbs img { width: 64px; height: 64px; image-rendering: pixelated; margin: 0 2px 2px 0; border: 1px solid #ccc; }
.thumbs .missing { display: inline-block; width: 64px; height: 64px; background: #eee; margin: 0 2px 2px 0; }
.note { color: #8a5a00; font-size: 0.9em; }
.evidence { display: flex; flex-wrap: wrap; gap: 0 2.5em; }
.evidence table { font-size: 0.9em; }
.decision { font-weight: 600; margin: 0.2em 0; }
.gates { font-size: 0.9em; margin: 0.2em 0; }
th.best, td.best { background: #fff6d6; }
td.pass, span.pass { color: #1a7f37; font-weight: 600; } td.fail, span.fail { color: #b42318; font-weight: 600; }
tr.shown td { background: #fff6d6; }
td.sig { font-weight: 700; }
.badge { display: inline-block; font-size: 0.9em; padding: 0.1em 0.5em; border-radius: 3px; background: #eee; margin: 0.2em 0; }
.badge.sig { background: #dcf5e3; color: #1a7f37; }
.muted { color: #777; }
`;

/** A whole standalone page: no scripts, no external resources. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

import { CHANGE_REASONS } from '../core/compute/compare/verdict.js';
import { escapeKeySegment } from '../core/compute/run/keys.js';
import { type ComparisonResult, compareRuns } from '../core/stages/compare.js';
import { writeComparePage } from '../report/compare-page.js';

export interface CompareCommandOptions {
  out?: string;
}

/** `pure compare <runA> <runB>`: the tables, the page, and a one-screen summary of what changed. */
export async function compareCommand(
  runA: string,
  runB: string,
  options: CompareCommandOptions,
): Promise<void> {
  const result = await compareRuns(runA, runB, {
    ...(options.out ? { out: options.out } : {}),
    onLayer: (layer, done, total) => process.stderr.write(`  compared ${layer} (${done}/${total})\n`),
  });
  const page = await writeComparePage(result.outUri, result.against);
  process.stdout.write(compareSummary(result, page.location));
}

/** What `pure compare` prints: per common layer, neurons compared, unchanged, changed by reason; where the outputs are. */
export function compareSummary(result: ComparisonResult, pageLocation: string): string {
  const { images } = result;
  const lines = [
    `A: ${result.runA}`,
    `B: ${result.runB}`,
    images.same
      ? `images: the same ${images.a} in both runs`
      : `images: ${images.a} in A, ${images.b} in B, ${images.shared} shared: references not compared, circuits and counts are`,
    '',
  ];
  const head = ['layer', 'neurons', 'unchanged', 'changed', ...CHANGE_REASONS];
  const table = [
    head,
    ...result.layers.map((l) => [
      l.layer,
      String(l.compared),
      String(l.compared - l.changed),
      String(l.changed),
      ...CHANGE_REASONS.map((r) => String(l.byReason[r])),
    ]),
  ];
  const widths = head.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const [i, row] of table.entries()) {
    const cells = row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)));
    const note = i > 0 ? result.layers[i - 1]!.note : null;
    lines.push(`  ${cells.join('  ')}${note ? `  (${note})` : ''}`);
  }
  if (result.layers.length === 0) lines.push('  no layer in common');
  if (result.onlyInA.length > 0) lines.push(`only in A (not compared): ${result.onlyInA.join(', ')}`);
  if (result.onlyInB.length > 0) lines.push(`only in B (not compared): ${result.onlyInB.join(', ')}`);
  const tables = `${result.outUri}/{compare,compare_virtual_neurons}/against=${escapeKeySegment(result.against)}/`;
  lines.push(
    '',
    `Tables: ${tables}`,
    `Query:  npx pure query ${result.outUri} "SELECT layer, neuron, reasons, severity FROM compare WHERE changed = 1 ORDER BY severity DESC"`,
    `Page:   ${pageLocation}`,
  );
  return `${lines.join('\n')}\n`;
}

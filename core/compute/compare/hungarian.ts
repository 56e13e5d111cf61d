/**
 * The best one-to-one matching of two small sets by similarity, for matching virtual neurons across runs.
 *
 * Hungarian method (Kuhn-Munkres with row and column potentials), O(n^2 m) for n rows <= m columns. A
 * brute force over permutations would do for the default counts (2..5: at most 120 permutations), but
 * `--clusters` takes any counts, and 10 clusters would be 3.6 million permutations per neuron; the
 * brute force stays as the tests' oracle (test/unit/compare/hungarian.test.ts).
 */

/**
 * The assignment of rows to columns that maximises the total weight: `result[row]` is its column, or -1
 * for the rows left over when there are more rows than columns. Every column is used at most once;
 * min(rows, columns) pairs are made. Weights must be finite.
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): number[] {
  const rows = weights.length;
  const columns = weights[0]?.length ?? 0;
  if (rows === 0 || columns === 0) return new Array<number>(rows).fill(-1);
  for (const row of weights) {
    if (row.length !== columns) throw new Error('weights must be a rectangular matrix');
    if (!row.every(Number.isFinite)) throw new Error('weights must be finite');
  }
  if (rows <= columns) return minCostAssignment((r, c) => -weights[r]![c]!, rows, columns);
  // More rows than columns: match the columns to rows, then read the matching the other way round.
  const byColumn = minCostAssignment((c, r) => -weights[r]![c]!, columns, rows);
  const result = new Array<number>(rows).fill(-1);
  byColumn.forEach((row, column) => {
    result[row] = column;
  });
  return result;
}

/**
 * Minimum-cost assignment of each of n rows to its own column among m >= n (the classic formulation with
 * potentials u, v and 1-based indices, column 0 a sentinel): each row is added by a shortest augmenting
 * path in the reduced costs, so the whole is O(n^2 m).
 */
function minCostAssignment(cost: (row: number, column: number) => number, n: number, m: number): number[] {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOfColumn = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    const minReduced = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[column] = 1;
      const r = rowOfColumn[column]!;
      let delta = Number.POSITIVE_INFINITY;
      let next = 0;
      for (let c = 1; c <= m; c++) {
        if (used[c]) continue;
        const reduced = cost(r - 1, c - 1) - u[r]! - v[c]!;
        if (reduced < minReduced[c]!) {
          minReduced[c] = reduced;
          way[c] = column;
        }
        if (minReduced[c]! < delta) {
          delta = minReduced[c]!;
          next = c;
        }
      }
      for (let c = 0; c <= m; c++) {
        if (used[c]) {
          u[rowOfColumn[c]!]! += delta;
          v[c]! -= delta;
        } else minReduced[c]! -= delta;
      }
      column = next;
    } while (rowOfColumn[column] !== 0);
    do {
      const previous = way[column]!;
      rowOfColumn[column] = rowOfColumn[previous]!;
      column = previous;
    } while (column !== 0);
  }
  const result = new Array<number>(n).fill(-1);
  for (let c = 1; c <= m; c++) if (rowOfColumn[c]! > 0) result[rowOfColumn[c]! - 1] = c - 1;
  return result;
}

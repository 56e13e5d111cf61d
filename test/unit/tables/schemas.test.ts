/**
 * Every table is declared once, as its column list; the row types are derived from it. These checks make
 * sure the derivation says what the files hold: at compile time (the types below fail `tsc`, and so the
 * build, when wrong) and at run time (every column of every table through Arrow and Parquet and back,
 * nulls included where nullable).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromParquet, toParquet } from '../../../core/adapters/tables/parquet.js';
import {
  type ColumnKind,
  type ColumnSpec,
  defineTable,
  type TableRow,
  type TableSchema,
} from '../../../core/compute/tables/schema.js';
import * as tables from '../../../core/compute/tables/schemas.js';

/** True only when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// Compile time, the mapping itself: every kind, nullable, a closed set of values.
const demo = defineTable('demo', [
  { name: 'text', kind: 'utf8', field: 'text', doc: 'a string' },
  { name: 'maybe_text', kind: 'utf8', field: 'maybeText', nullable: true, doc: 'a string or null' },
  { name: 'choice', kind: 'utf8', field: 'choice', values: ['a', 'b'], doc: 'a or b' },
  { name: 'count', kind: 'int32', field: 'count', doc: 'an int32' },
  { name: 'share', kind: 'float32', field: 'share', nullable: false, doc: 'a float32' },
  { name: 'vector', kind: 'float32[]', field: 'vector', nullable: true, doc: 'a float32 list or null' },
]);
const derivedRowIsExact: Equal<
  TableRow<typeof demo>,
  {
    text: string;
    maybeText: string | null;
    choice: 'a' | 'b';
    count: number;
    share: number;
    vector: Float32Array | null;
  }
> = true;

// Compile time, the real tables: each is declared as a literal tuple, so its fields are named properties,
// not a `string` index signature (what a widened `ColumnSpec[]` declaration would silently give).
type DeclaredLiterally<Export> =
  Export extends TableSchema<infer Row, infer Columns>
    ? number extends Columns['length']
      ? false
      : string extends keyof Row
        ? false
        : true
    : false;
type ExportedTables = typeof tables;
const everyTableDeclaredLiterally: Equal<
  { [Name in keyof ExportedTables]: DeclaredLiterally<ExportedTables[Name]> }[keyof ExportedTables],
  true
> = true;
const clusterMethodIsClosed: Equal<tables.ClusterMethod, 'pure' | 'activation'> = true;

/** The Arrow type each kind is written as (and so its Parquet type). */
const arrowTypeOfKind: Record<ColumnKind, string> = {
  utf8: 'Utf8',
  int32: 'Int32',
  float32: 'Float32',
  'float32[]': 'List<Float32>',
};

type FieldRecord = Record<string, unknown>;

/** A value of the column for row i, null on odd rows of nullable columns, edge values on some rows. */
function sampleValue(column: ColumnSpec, i: number): unknown {
  if (column.nullable && i % 2 === 1) return null;
  if (column.values) return column.values[i % column.values.length];
  switch (column.kind) {
    case 'utf8':
      return i === 0 ? '' : `${column.field} ${i}: it's ünïcode/层`;
    case 'int32':
      return [0, -1, 2 ** 31 - 1, -(2 ** 31), 42][i % 5];
    case 'float32':
      return [0, -0.5, Math.fround(Math.PI), Math.fround(3.4e38), Math.fround(-1e-30)][i % 5];
    case 'float32[]':
      return Float32Array.from({ length: i % 4 }, (_, j) => Math.fround((j - i) / 7));
  }
}

const schemas = Object.entries(tables) as [string, TableSchema<FieldRecord>][];

function sampleRows(schema: TableSchema<FieldRecord>, count: number): FieldRecord[] {
  return Array.from({ length: count }, (_, i) =>
    Object.fromEntries(schema.columns.map((c) => [c.field, sampleValue(c, i)])),
  );
}

/** Rows as activities write and read them (activities/io.ts writeTable and readTable). */
function throughParquet(schema: TableSchema<FieldRecord>, rows: readonly FieldRecord[]): FieldRecord[] {
  const bytes = toParquet(schema.toArrow(rows), { metadata: { 'pure.table': schema.name } });
  return schema.fromArrow(fromParquet(bytes));
}

describe('table declarations', () => {
  test('the derived row types are checked at compile time', () => {
    assert.ok(derivedRowIsExact && everyTableDeclaredLiterally && clusterMethodIsClosed);
  });

  test('every export of schemas.ts is a table, each with its own name and documented columns', () => {
    assert.ok(schemas.length >= 7);
    for (const [exportName, schema] of schemas) {
      assert.equal(typeof schema.toArrow, 'function', `${exportName} is not a table schema`);
      assert.ok(schema.columns.length > 0, schema.name);
      for (const c of schema.columns)
        assert.ok(c.doc.trim().length > 0, `${schema.name}.${c.name} has no doc`);
    }
    const names = schemas.map(([, schema]) => schema.name);
    assert.equal(new Set(names).size, names.length, `table names repeat: ${names.join(', ')}`);
  });

  for (const [, schema] of schemas) {
    test(`${schema.name}: every column round-trips through Arrow and Parquet, nulls where nullable`, () => {
      const rows = sampleRows(schema, 10);
      const arrow = schema.toArrow(rows);
      assert.deepEqual(
        arrow.schema.fields.map((f) => [f.name, String(f.type)]),
        schema.columns.map((c) => [c.name, arrowTypeOfKind[c.kind]]),
      );
      assert.deepEqual(schema.fromArrow(arrow), rows);
      assert.deepEqual(throughParquet(schema, rows), rows);
      // Nullable columns holding nothing but nulls, too (all-null columns are where writers take shortcuts).
      const nulls = Object.fromEntries(schema.columns.filter((c) => c.nullable).map((c) => [c.field, null]));
      const allNull = rows.map((row) => ({ ...row, ...nulls }));
      assert.deepEqual(throughParquet(schema, allNull), allNull);
    });

    test(`${schema.name}: a null in a non-nullable column or a value outside a closed set is refused`, () => {
      const [row] = sampleRows(schema, 1);
      for (const c of schema.columns) {
        if (c.nullable) continue;
        assert.throws(
          () => schema.toArrow([{ ...row, [c.field]: null }]),
          new RegExp(`table ${schema.name}: column ${c.name} is not nullable`),
        );
      }
      for (const c of schema.columns) {
        if (!c.values) continue;
        assert.throws(
          () => schema.toArrow([{ ...row, [c.field]: 'not-a-value' }]),
          new RegExp(`table ${schema.name}: column ${c.name} has "not-a-value", not one of`),
        );
      }
    });
  }

  test('a file holding a value outside a closed set is refused on read', () => {
    const open = defineTable('clusters', [
      { name: 'method', kind: 'utf8', field: 'method', doc: 'any text' },
    ]);
    const bytes = toParquet(open.toArrow([{ method: 'kmeans' }]));
    const methodOnly = defineTable('clusters', [
      { name: 'method', kind: 'utf8', field: 'method', values: ['pure', 'activation'], doc: 'closed' },
    ]);
    assert.throws(
      () => methodOnly.fromArrow(fromParquet(bytes)),
      /table clusters: column method has "kmeans", not one of pure, activation/,
    );
  });
});

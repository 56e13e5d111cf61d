import {
  type DataType,
  Field,
  Float32,
  Int32,
  List,
  makeData,
  makeVector,
  Table,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';

/**
 * Column kinds used by pure's tables; each maps to one Arrow/Parquet type. `float32[]` is a list of floats
 * (DuckDB `FLOAT[]`) held per row as a Float32Array: circuit vectors, activation features.
 */
export type ColumnKind = 'utf8' | 'int32' | 'float32' | 'float32[]';

type KindValue = string | number | Float32Array;

/** A column: its Parquet name, its kind, whether it may be null, and the row field it holds. */
export interface ColumnSpec<Row, F extends keyof Row = keyof Row> {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable?: boolean;
  readonly field: F;
}

export interface TableSchema<Row> {
  readonly name: string;
  readonly columns: readonly ColumnSpec<Row>[];
  toArrow(rows: readonly Row[]): Table;
  fromArrow(table: Table): Row[];
}

function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'utf8':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'float32':
      return new Float32();
    case 'float32[]':
      return new List(new Field('item', new Float32(), false));
    default: {
      const unknownKind: never = kind;
      throw new Error(`unknown column kind ${String(unknownKind)}`);
    }
  }
}

function fromArrowValue(kind: ColumnKind, value: unknown): KindValue | null {
  if (value === null || value === undefined) return null;
  if (kind === 'float32[]') return Float32Array.from((value as Vector).toArray() as Float32Array);
  return kind === 'utf8' ? String(value) : Number(value);
}

/** A list<float32> column built from its offsets and one flat buffer: no per-element boxing. */
function floatListVector(values: readonly unknown[]): Vector {
  const offsets = new Int32Array(values.length + 1);
  for (let i = 0; i < values.length; i++) {
    const row = values[i];
    if (!(row instanceof Float32Array))
      throw new Error(`float32[] column needs Float32Array rows, got ${typeof row}`);
    offsets[i + 1] = offsets[i]! + row.length;
  }
  const flat = new Float32Array(offsets[values.length]!);
  values.forEach((row, i) => {
    flat.set(row as Float32Array, offsets[i]!);
  });
  const type = arrowType('float32[]') as List<Float32>;
  const child = makeData({ type: new Float32(), length: flat.length, data: flat });
  return makeVector(makeData({ type, length: values.length, nullCount: 0, valueOffsets: offsets, child }));
}

/**
 * Declares a table once: the same declaration writes rows to Arrow (and so Parquet), reads them back,
 * and documents the schema. Validated at definition, so a typo fails at start-up, not mid-sweep.
 */
export function defineTable<Row>(name: string, columns: readonly ColumnSpec<Row>[]): TableSchema<Row> {
  const names = new Set<string>();
  for (const c of columns) {
    if (names.has(c.name)) throw new Error(`table ${name}: column ${c.name} declared twice`);
    names.add(c.name);
  }
  return {
    name,
    columns,
    toArrow(rows) {
      const vectors = Object.fromEntries(
        columns.map((c) => {
          const values = rows.map((row) => {
            const v = row[c.field];
            if ((v === null || v === undefined) && !c.nullable) {
              throw new Error(`table ${name}: column ${c.name} is not nullable but a row has ${String(v)}`);
            }
            return v;
          });
          const vector =
            c.kind === 'float32[]'
              ? floatListVector(values)
              : vectorFromArray(values as unknown[], arrowType(c.kind));
          return [c.name, vector];
        }),
      );
      return new Table(vectors);
    },
    fromArrow(table) {
      for (const c of columns) {
        if (!table.schema.fields.some((f) => f.name === c.name)) {
          throw new Error(
            `table ${name}: Parquet file has no column ${c.name} (has ${table.schema.names.join(', ')})`,
          );
        }
      }
      const rows: Row[] = [];
      for (const record of table) {
        const row: Record<string, unknown> = {};
        for (const c of columns) row[c.field as string] = fromArrowValue(c.kind, record[c.name]);
        rows.push(row as Row);
      }
      return rows;
    },
  };
}

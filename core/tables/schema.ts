import { type DataType, Float32, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';

/** Column kinds used by pure's tables; each maps to one Arrow/Parquet type. */
export type ColumnKind = 'utf8' | 'int32' | 'float32';

type KindValue<K extends ColumnKind> = K extends 'utf8' ? string : number;

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
    default: {
      const unknownKind: never = kind;
      throw new Error(`unknown column kind ${String(unknownKind)}`);
    }
  }
}

function fromArrowValue(kind: ColumnKind, value: unknown): KindValue<ColumnKind> | null {
  if (value === null || value === undefined) return null;
  return kind === 'utf8' ? String(value) : Number(value);
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
          return [c.name, vectorFromArray(values as unknown[], arrowType(c.kind))];
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

import { type Table as ArrowTable, tableFromIPC, tableToIPC } from 'apache-arrow';
import {
  Compression,
  Table as WasmTable,
  WriterPropertiesBuilder,
  readParquet as wasmReadParquet,
  writeParquet as wasmWriteParquet,
} from 'parquet-wasm/node';

export interface ParquetWriteOptions {
  /** Rows per row group: small enough that readers can skip groups by statistics. */
  rowGroupSize?: number;
  /** Free-form key/value metadata stored in the file footer (e.g. pure version, run id). */
  metadata?: Record<string, string>;
}

/**
 * Encodes an Arrow table as one zstd-compressed Parquet file in memory.
 * parquet-wasm memory is not garbage collected: `writeParquet` and the builder methods take ownership
 * of (and free) their WASM arguments, so nothing is left behind on success or failure.
 */
export function toParquet(table: ArrowTable, options: ParquetWriteOptions = {}): Uint8Array {
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  let builder = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setMaxRowGroupSize(options.rowGroupSize ?? 65_536)
    .setCreatedBy('pure');
  if (options.metadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(options.metadata)));
  return wasmWriteParquet(wasmTable, builder.build());
}

/** Decodes a Parquet file into an Arrow table (whole file; our parts are small by construction). */
export function fromParquet(bytes: Uint8Array): ArrowTable {
  // intoIPCStream consumes (frees) the WASM table.
  return tableFromIPC(wasmReadParquet(bytes).intoIPCStream());
}

/**
 * The renderings of a flat table (./flat_table.ts): CSV (RFC 4180; null as an empty field),
 * JSON Lines (one object per row, keys in column order) and Parquet (one row group; columns typed
 * DOUBLE, INT64, BOOLEAN or UTF8 strings, all nullable; Snappy pages), written with apache-arrow and
 * parquet-wasm. Every format writes the same columns under the same names.
 */
import type { FlatTable, FlatType } from "./flat_table.ts";

export const TABLE_FORMATS = ["csv", "jsonl", "parquet"] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

function csvField(v: FlatTable["rows"][number][number]): string {
  const s = v === null ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function renderTableCsv(t: FlatTable): string {
  const lines = [t.columns.map((c) => csvField(c.name)).join(",")];
  for (const r of t.rows) lines.push(r.map(csvField).join(","));
  return lines.join("\n") + "\n";
}

export function renderTableJsonl(t: FlatTable): string {
  return t.rows.map((r) => JSON.stringify(Object.fromEntries(t.columns.map((c, i) => [c.name, r[i]])))).join(
    "\n",
  ) + (t.rows.length ? "\n" : "");
}

/** The table as Parquet bytes. */
export async function renderTableParquet(t: FlatTable): Promise<Uint8Array> {
  // Loaded here, not at start-up: parquet-wasm compiles its WebAssembly module on import.
  const arrow = await import("apache-arrow");
  const parquet = await import("parquet-wasm");
  const typeOf: Record<FlatType, () => InstanceType<typeof arrow.DataType>> = {
    double: () => new arrow.Float64(),
    int: () => new arrow.Int64(),
    boolean: () => new arrow.Bool(),
    string: () => new arrow.Utf8(),
  };
  const vectors: Record<string, InstanceType<typeof arrow.Vector>> = {};
  t.columns.forEach((c, i) => {
    const values = t.rows.map((r) => r[i]);
    vectors[c.name] = arrow.vectorFromArray(
      c.type === "int" ? values.map((v) => v === null ? null : BigInt(v as number)) : values,
      typeOf[c.type](),
    );
  });
  const table = new arrow.Table(vectors);
  const ipc = arrow.tableToIPC(table, "stream");
  const props = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.SNAPPY).build();
  return parquet.writeParquet(parquet.Table.fromIPCStream(ipc), props);
}

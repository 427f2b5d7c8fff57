/*
 * How the CLI prints for people: sizes in IEC units (1 KiB = 1024 B, like the ones `--chunk-size`
 * reads), and lists as aligned tables.
 */

const KIB = 1024;
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** A byte count for people: `512 B`, `319.0 KiB`, `75.0 MiB`, `1.25 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < KIB) return `${Math.round(bytes)} B`;
  if (bytes < MIB) return `${(bytes / KIB).toFixed(1)} KiB`;
  if (bytes < GIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  return `${(bytes / GIB).toFixed(2)} GiB`;
}

/**
 * Plain aligned columns (no borders), the form of every list the CLI prints: readable in a terminal
 * and easy to grep. `rightAligned`: the indexes of numeric columns.
 */
export function table(header: string[], rows: string[][], rightAligned: number[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

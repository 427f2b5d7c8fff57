/*
 * Sizes as the CLI prints them, in IEC units (1 KiB = 1024 B) like the ones `--chunk-size` reads.
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

import { InvalidArgumentError } from 'commander';

/*
 * Parsers of option values, run by commander while it reads the command line (before any command's
 * code is loaded), so a bad value is a usage error that names the option.
 */

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('a port is 0–65535');
  return port;
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--from-chunk`: a chunk number, 2 or more (chunk 1 is what creates the message). */
export function parseFromChunk(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 2) {
    throw new InvalidArgumentError('a chunk number of 2 or more');
  }
  return Number(value);
}

/** `--chunk-size`: bytes, or with a K/M suffix (KiB/MiB). */
export function parseChunkSize(value: string): number {
  const m = /^(\d+)\s*([kKmM])?(i?B)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('a number of bytes, e.g. 1048576 or 20M');
  const unit = m[2]?.toLowerCase() === 'k' ? 1024 : m[2]?.toLowerCase() === 'm' ? 1024 * 1024 : 1;
  return Number(m[1]) * unit;
}

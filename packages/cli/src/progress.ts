import type { CliIo } from './io.js';

/*
 * Progress on stderr, shared by the long-running commands (`dmd import`, `mesh send`, `mesh get`): on a terminal
 * one line redrawn in place with a bar; anywhere else (CI logs, pipes) plain lines, each command choosing when.
 */

/** One line redrawn in place on a terminal (`\r`, the text cut to the width, `ESC[K`); `end` moves past it. */
export class TtyLine {
  private drawn = false;
  constructor(
    private readonly io: CliIo,
    private readonly columns: number,
  ) {}

  draw(text: string): void {
    this.io.stderr(`\r${text.slice(0, this.columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) this.io.stderr('\n');
    this.drawn = false;
  }
}

/** A bar of `width` cells, `fraction` (0..1) of them full. */
export function progressBar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

/** Whole percent of `n` in `of` (100% of nothing). */
export function percent(n: number, of: number): string {
  return `${of > 0 ? Math.floor((100 * n) / of) : 100}%`;
}

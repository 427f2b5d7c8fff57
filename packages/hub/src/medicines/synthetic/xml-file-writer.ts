import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Escapes text content as NHSBSA does (`&amp;` in names). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** One element per line, children indented as in the NHSBSA files; undefined fields are omitted. */
export function row(
  tag: string,
  indent: string,
  fields: readonly (readonly [string, string | number | undefined])[],
): string {
  let out = `${indent}<${tag}>\n`;
  const inner = `${indent}  `;
  for (const [name, value] of fields) {
    if (value === undefined) continue;
    out += `${inner}<${name}>${typeof value === 'number' ? value : escapeXml(value)}</${name}>\n`;
  }
  return `${out}${indent}</${tag}>\n`;
}

export const CHUNK = 256 * 1024;

/**
 * Buffers small strings into ~256 KiB chunks and writes them to a file stream, waiting for
 * 'drain' whenever the stream says its buffer is full, so memory stays bounded.
 */
export class XmlFileWriter {
  private readonly stream: Writable;
  private parts: string[] = [];
  private size = 0;

  /** A file path, or any writable stream (tests pass a slow one to check backpressure). */
  constructor(target: string | Writable) {
    this.stream = typeof target === 'string' ? createWriteStream(target, { encoding: 'utf8' }) : target;
  }

  /** Appends text; returns true when the caller should `await flush()`. */
  push(text: string): boolean {
    this.parts.push(text);
    this.size += text.length;
    return this.size >= CHUNK;
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Writes every string a generator yields, respecting backpressure, then closes the file. */
  async writeAll(source: Iterable<string>): Promise<void> {
    try {
      for (const text of source) {
        if (this.push(text)) await this.flush();
      }
      await this.flush();
      this.stream.end();
      await finished(this.stream);
    } catch (error) {
      this.stream.destroy();
      throw error;
    }
  }
}

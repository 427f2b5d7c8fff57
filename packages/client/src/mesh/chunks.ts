import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipelineStreams, Readable } from 'node:stream';

import { finished, pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** A message body for `MeshClient.send`. */
export type MeshBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array | string> | MeshFileBody;

/** A file on disk: read in place, one range per chunk, never copied (the cheapest way to send a large message). */
export interface MeshFileBody {
  path: string;
}

/** One chunk's request body, re-openable so that a retry can send it again. */
export interface ChunkBody {
  open(): Promise<Uint8Array | AsyncIterable<Uint8Array>>;
  /** Bytes on the wire, when known before sending. */
  length: number | undefined;
}

/** A message split into `total` chunks of at most `chunkSize` uncompressed bytes each. */
export interface PreparedMessage {
  total: number;
  /** Uncompressed size of the whole message. */
  bytes: number;
  /** MD5 of the whole uncompressed content, lower-case hex, when asked for. */
  md5: string | undefined;
  chunk(k: number): ChunkBody;
  cleanup(): Promise<void>;
}

export interface PrepareOptions {
  chunkSize: number;
  compress: boolean;
  /** zlib level 1..9 for `compress`. */
  level: number;
  md5: boolean;
  tempDir: string | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Splits a body into chunks on the **uncompressed** data, each gzip'd on its own when `compress` (mesh-api.yaml
 * "Outbox workflow": "split the uncompressed data into ordered chunks; independently compress each chunk").
 * The number of chunks must be known before the first POST (`mex-Chunk-Range: 1:n`), so:
 * - bytes in memory (`Uint8Array`, `string`): sliced in place;
 * - a file (`{ path }`): its size gives n; each chunk is read from its range when sent (and again on a retry);
 * - a stream (`Readable`, `AsyncIterable`): spooled once to a private temporary directory, chunk by chunk
 *   (gzip'd on the way when `compress`), while counting; memory stays at one stream buffer whatever the size,
 *   disk use is the size on the wire. `cleanup()` removes the directory.
 */
export async function prepareMessage(body: MeshBody, options: PrepareOptions): Promise<PreparedMessage> {
  if (typeof body === 'string') return fromBytes(Buffer.from(body, 'utf8'), options);
  if (body instanceof Uint8Array) return fromBytes(body, options);
  if (isFileBody(body)) return fromFile(body.path, options);
  return spool(body, options);
}

function isFileBody(body: MeshBody): body is MeshFileBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Partial<MeshFileBody>).path === 'string' &&
    !(Symbol.asyncIterator in body)
  );
}

function chunkCount(bytes: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(bytes / chunkSize));
}

function fromBytes(bytes: Uint8Array, options: PrepareOptions): PreparedMessage {
  const total = chunkCount(bytes.byteLength, options.chunkSize);
  const slice = (k: number) => bytes.subarray((k - 1) * options.chunkSize, k * options.chunkSize);
  return {
    total,
    bytes: bytes.byteLength,
    md5: options.md5 ? createHash('md5').update(bytes).digest('hex') : undefined,
    chunk: (k) => {
      const raw = slice(k);
      if (!options.compress) return { open: async () => raw, length: raw.byteLength };
      return {
        open: async () => new Uint8Array(await gzipAsync(raw, { level: options.level })),
        length: undefined,
      };
    },
    cleanup: async () => {},
  };
}

async function fromFile(path: string, options: PrepareOptions): Promise<PreparedMessage> {
  const size = (await stat(path)).size;
  const total = chunkCount(size, options.chunkSize);
  let md5: string | undefined;
  if (options.md5) {
    // The checksum goes on the first POST, so the whole file is read once before sending.
    const hash = createHash('md5');
    for await (const piece of createReadStream(path, { signal: options.signal } as object)) {
      hash.update(piece as Buffer);
    }
    md5 = hash.digest('hex');
  }
  return {
    total,
    bytes: size,
    md5,
    chunk: (k) => {
      const start = (k - 1) * options.chunkSize;
      const end = Math.min(size, k * options.chunkSize); // exclusive
      const length = end - start;
      const read = (): Readable =>
        length === 0 ? Readable.from([]) : createReadStream(path, { start, end: end - 1 });
      if (!options.compress) return { open: async () => read(), length };
      // pipeline, not pipe: a read error (the file went away) must fail the upload, not stall it.
      return {
        open: async () => pipelineStreams(read(), createGzip({ level: options.level }), () => {}),
        length: undefined,
      };
    },
    cleanup: async () => {},
  };
}

async function spool(
  source: Readable | AsyncIterable<Uint8Array | string>,
  options: PrepareOptions,
): Promise<PreparedMessage> {
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'junction-mesh-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const hash: Hash | undefined = options.md5 ? createHash('md5') : undefined;
    const sizes: number[] = [];
    let bytes = 0;
    let writer: ChunkWriter | undefined;
    let inChunk = 0;
    for await (const piece of source) {
      options.signal?.throwIfAborted();
      let data: Buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : toBuffer(piece);
      hash?.update(data);
      bytes += data.byteLength;
      while (data.byteLength > 0) {
        if (!writer) {
          writer = chunkWriter(join(dir, String(sizes.length + 1)), options.compress, options.level);
          inChunk = 0;
        }
        const take = Math.min(options.chunkSize - inChunk, data.byteLength);
        await writer.write(data.subarray(0, take));
        inChunk += take;
        data = data.subarray(take);
        if (inChunk === options.chunkSize) {
          sizes.push(await writer.end());
          writer = undefined;
        }
      }
    }
    if (writer) sizes.push(await writer.end());
    if (sizes.length === 0) {
      // An empty message is one empty chunk (gzip'd, it is a 20-byte member).
      sizes.push(await chunkWriter(join(dir, '1'), options.compress, options.level).end());
    }
    return {
      total: sizes.length,
      bytes,
      md5: hash?.digest('hex'),
      chunk: (k) => {
        const file = join(dir, String(k));
        const length = sizes[k - 1] ?? 0;
        return {
          open: async () => (length === 0 ? new Uint8Array(0) : createReadStream(file)),
          length,
        };
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

interface ChunkWriter {
  write(data: Buffer): Promise<void>;
  /** Ends the chunk; resolves with its size on disk. */
  end(): Promise<number>;
}

function chunkWriter(file: string, compress: boolean, level: number): ChunkWriter {
  const out = createWriteStream(file);
  const gz = compress ? createGzip({ level }) : undefined;
  const head: NodeJS.WritableStream & NodeJS.EventEmitter = gz ?? out;
  const done = gz ? pipeline(gz, out) : finished(out);
  // A failure surfaces through `done`; keep an early one from being unhandled.
  done.catch(() => {});
  return {
    write: async (data) => {
      // `once` rejects if the stream errors (a full disk) instead of draining.
      if (!head.write(data)) await once(head, 'drain');
    },
    end: async () => {
      head.end();
      await done;
      return (await stat(file)).size;
    },
  };
}

function toBuffer(piece: Uint8Array): Buffer {
  return Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
}

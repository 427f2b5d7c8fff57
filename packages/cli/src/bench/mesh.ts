import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MeshClient } from '@junction/client';
import { createSandboxServer } from '@junction/sandbox';
import { formatBytes } from '../format.js';

const MiB = 1024 * 1024;
const SIZES = [100 * MiB, 1024 * MiB];

/** Peak resident memory while `run` runs, sampled every 50 ms. */
async function withPeakRss<T>(
  run: () => Promise<T>,
): Promise<{ result: T; seconds: number; peakRss: number }> {
  let peakRss = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  const started = performance.now();
  try {
    const result = await run();
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { result, seconds: (performance.now() - started) / 1000, peakRss };
  } finally {
    clearInterval(timer);
  }
}

/** A file of `size` bytes of CSV-like text (digits from an LCG): compressible as real extracts are, not trivially. */
async function writeContent(path: string, size: number): Promise<void> {
  let x = 20251125;
  async function* blocks() {
    let left = size;
    while (left > 0) {
      const block = Buffer.alloc(Math.min(MiB, left));
      for (let i = 0; i < block.length; i++) {
        if (i % 64 === 63) block[i] = 10;
        else if (i % 8 === 7) block[i] = 44;
        else {
          x = (x * 1103515245 + 12345) & 0x7fffffff;
          block[i] = 48 + ((x >> 16) % 10);
        }
      }
      left -= block.length;
      yield block;
    }
  }
  await pipeline(blocks(), createWriteStream(path));
}

async function drain(body: Readable | AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const piece of body) n += (piece as Uint8Array).byteLength;
  return n;
}

/** The floor: the same file POSTed to and GET from a bare node:http server over loopback, nothing stored. */
async function rawTransfer(file: string, size: number) {
  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      drain(req).then((n) => res.end(String(n)));
    } else {
      res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const up = await withPeakRss(
      () =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/up',
              headers: { 'content-length': String(size) },
            },
            (res) => drain(res).then(() => resolve(size), reject),
          );
          req.on('error', reject);
          createReadStream(file).pipe(req);
        }),
    );
    const down = await withPeakRss(
      () =>
        new Promise<number>((resolve, reject) => {
          request({ host: '127.0.0.1', port, method: 'GET', path: '/down' }, (res) =>
            drain(res).then(resolve, reject),
          )
            .on('error', reject)
            .end();
        }),
    );
    if (down.result !== size) throw new Error(`raw download returned ${down.result} bytes, expected ${size}`);
    return { up, down };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The same file sent X26ABC1 → X26ABC2 through MeshClient and the sandbox MESH, then received and acknowledged. */
async function meshTransfer(baseUrl: string, file: string, size: number, compress: boolean, spool: string) {
  // plain: no gzip either way (the transport's own cost); gzip: the client's defaults (gzip'd chunks up, gzip down).
  const credentials = {
    baseUrl,
    password: 'password',
    sharedKey: 'TestKey',
    tempDir: spool,
    compress,
    acceptGzip: compress,
  };
  const sender = new MeshClient({ ...credentials, mailboxId: 'X26ABC1' });
  const recipient = new MeshClient({ ...credentials, mailboxId: 'X26ABC2' });
  try {
    const up = await withPeakRss(() =>
      sender.send({
        to: 'X26ABC2',
        workflowId: 'TEST_WORKFLOW',
        body: { path: file },
        fileName: 'bench.csv',
      }),
    );
    const down = await withPeakRss(async () => {
      const { body } = await recipient.receive(up.result.messageId);
      const n = await drain(body);
      await recipient.acknowledge(up.result.messageId);
      return n;
    });
    if (down.result !== size)
      throw new Error(`MESH download returned ${down.result} bytes, expected ${size}`);
    return { up, down, chunks: up.result.chunks };
  } finally {
    await sender.close();
    await recipient.close();
  }
}

const speed = (bytes: number, seconds: number) => `${Math.round(bytes / MiB / seconds)} MiB/s`;

function row(...cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(26) : c.padStart(11))).join(' ');
}

/**
 * MESH at size: a 100 MB and a 1 GB message sent through MeshClient to the sandbox MESH
 * (75 MiB chunks, MD5 checksum; plain = no gzip either way, gzip = the defaults: each chunk gzip'd up and
 * downloaded gzip'd), then downloaded and acknowledged, against a raw
 * loopback HTTP upload and download of the same file in the same run. Throughput in MB/s of uncompressed
 * content, the ratio to raw, and the process's peak RSS (client and sandbox share this process) during each.
 */
export async function benchMesh(log: (line: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-bench-mesh-'));
  const spool = await mkdtemp(join(tmpdir(), 'junction-bench-mesh-spool-'));
  const sandbox = await createSandboxServer({
    pds: { syntheticPatients: 0 },
    mesh: { admin: true, dataDir: join(dir, 'sandbox') },
  });
  try {
    await sandbox.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(sandbox.server.address() as AddressInfo).port}`;
    log(`RSS at start: ${formatBytes(process.memoryUsage.rss())} (client and sandbox in this process)`);
    log(row('', 'up', 'up MiB/s', '× raw', 'down', 'down MiB/s', '× raw', 'peak RSS'));
    for (const size of SIZES) {
      const file = join(dir, `content-${size}.csv`);
      await writeContent(file, size);
      const raw = await rawTransfer(file, size);
      log(
        row(
          `${formatBytes(size)} raw HTTP`,
          `${raw.up.seconds.toFixed(2)} s`,
          speed(size, raw.up.seconds),
          '1.00',
          `${raw.down.seconds.toFixed(2)} s`,
          speed(size, raw.down.seconds),
          '1.00',
          formatBytes(Math.max(raw.up.peakRss, raw.down.peakRss)),
        ),
      );
      for (const compress of [false, true]) {
        const run = await meshTransfer(baseUrl, file, size, compress, spool);
        log(
          row(
            `${formatBytes(size)} MESH ${compress ? 'gzip' : 'plain'}, ${run.chunks} ch`,
            `${run.up.seconds.toFixed(2)} s`,
            speed(size, run.up.seconds),
            (raw.up.seconds / run.up.seconds).toFixed(2),
            `${run.down.seconds.toFixed(2)} s`,
            speed(size, run.down.seconds),
            (raw.down.seconds / run.down.seconds).toFixed(2),
            formatBytes(Math.max(run.up.peakRss, run.down.peakRss)),
          ),
        );
        await fetch(`${baseUrl}/messageexchange/admin/reset`, { method: 'DELETE' });
      }
      await rm(file, { force: true });
    }
    log('× raw: raw seconds / MESH seconds (1.00 = as fast as a bare loopback transfer of the same bytes).');
  } finally {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
    await rm(spool, { recursive: true, force: true });
  }
}

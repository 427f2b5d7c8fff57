import { readFileSync } from 'node:fs';
import { MeshClient, type MeshClientOptions, type MeshTlsOptions } from '@junction/client';
import type { MeshMailboxConfig } from '../config/load-config.js';
import type { MeshPort } from './mesh-service.js';

/** What `meshClientFor` may set beyond the mailbox's configuration. */
export interface MeshClientForOptions {
  /** Where stream bodies are spooled (the OS temp directory by default). */
  tempDir?: string;
  /** Uncompressed bytes per chunk; default the mailbox's `chunkSize`, else the client's 75 MiB. */
  chunkSize?: number;
}

/**
 * The `MeshClient` of a configured mailbox (mutual TLS files read here, once).
 * @example
 * const port = meshClientFor(config.mesh.mailboxes[0], { chunkSize: 20 * 1024 * 1024 });
 */
export function meshClientFor(mailbox: MeshMailboxConfig, extra: MeshClientForOptions = {}): MeshPort {
  const options: MeshClientOptions = {
    baseUrl: mailbox.baseUrl,
    mailboxId: mailbox.mailboxId,
    password: mailbox.password,
    sharedKey: mailbox.sharedKey,
  };
  if (extra.tempDir !== undefined) options.tempDir = extra.tempDir;
  const chunkSize = extra.chunkSize ?? mailbox.chunkSize;
  if (chunkSize !== undefined) options.chunkSize = chunkSize;
  if (mailbox.tls) {
    const read = (path: string, what: string) => {
      try {
        return readFileSync(path);
      } catch (error) {
        throw new Error(
          `MESH mailbox ${mailbox.mailboxId}: cannot read the TLS ${what} ${path}: ${(error as Error).message}`,
        );
      }
    };
    const tls: MeshTlsOptions = {
      cert: read(mailbox.tls.certPath, 'certificate'),
      key: read(mailbox.tls.keyPath, 'key'),
    };
    if (mailbox.tls.caPath !== undefined) tls.ca = read(mailbox.tls.caPath, 'CA bundle');
    if (mailbox.tls.passphrase !== undefined) tls.passphrase = mailbox.tls.passphrase;
    if (mailbox.tls.rejectUnauthorized !== undefined) tls.rejectUnauthorized = mailbox.tls.rejectUnauthorized;
    if (mailbox.tls.servername !== undefined) tls.servername = mailbox.tls.servername;
    options.tls = tls;
  }
  return new MeshClient(options);
}

import { readFileSync } from 'node:fs';
import { MeshClient, type MeshClientOptions, type MeshTlsOptions } from '@junction/client';
import type { MeshMailboxConfig } from '../config/load-config.js';
import type { MeshPort } from './mesh-service.js';

/** The `MeshClient` of a configured mailbox (mutual TLS files read here, once). */
export function meshClientFor(mailbox: MeshMailboxConfig, tempDir?: string): MeshPort {
  const options: MeshClientOptions = {
    baseUrl: mailbox.baseUrl,
    mailboxId: mailbox.mailboxId,
    password: mailbox.password,
    sharedKey: mailbox.sharedKey,
  };
  if (tempDir !== undefined) options.tempDir = tempDir;
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

import { CompactEncrypt, compactDecrypt } from 'jose';

/**
 * Encrypts the secrets of settings kept in the database (a MESH mailbox's password and shared
 * key) with the hub's `JUNCTION_SECRETS_KEY`: a compact JWE (RFC 7516) with direct encryption,
 * `alg: dir`, `enc: A256GCM`: a standard, self-describing format made by `jose`, authenticated, so
 * a wrong key or an edited value is refused rather than decrypted into rubbish. A database dump or
 * backup alone does not give the mailboxes away.
 */
export class SecretBox {
  private readonly key: Uint8Array;

  /** @param secretsKey 32 bytes in base64 (validated by the config). */
  constructor(secretsKey: string) {
    this.key = new Uint8Array(Buffer.from(secretsKey, 'base64'));
    if (this.key.length !== 32) throw new RangeError('the secrets key must be 32 bytes');
  }

  seal(value: unknown): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'json' })
      .encrypt(this.key);
  }

  /** Throws when the value was sealed with another key or altered. */
  async open(jwe: string): Promise<unknown> {
    const { plaintext } = await compactDecrypt(jwe, this.key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    return JSON.parse(new TextDecoder().decode(plaintext)) as unknown;
  }
}

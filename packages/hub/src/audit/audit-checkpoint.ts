import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import type { Store } from '../store/database.js';
import { type AuditChainVerification, verifyAuditChain } from './verify-audit-chain.js';

/**
 * A signed statement of the audit chain's head at one moment. The hash chain alone cannot show a
 * rewrite by someone with database access who recomputes every hash *and* the head row, or who
 * deletes the tail and moves the head back; a checkpoint signed with a key kept outside the
 * database (and stored off the machine) can, because the forger cannot sign a new one.
 */
export interface AuditCheckpoint {
  /** Sequence number of the head record (0 for an empty chain). */
  seq: number;
  /** That record's hash (the genesis hash for an empty chain). */
  hash: string;
  /** Records in the chain at that moment. */
  count: number;
  /** When the checkpoint was made, ISO 8601. */
  at: string;
}

/** JWS `typ` (RFC 7515 §4.1.9): a checkpoint cannot be confused with another token from the same key. */
const CHECKPOINT_TYP = 'junction-audit-checkpoint+jws';

/** JWS algorithm for a key: Ed25519 (RFC 8037 `EdDSA`) or P-256 (RFC 7518 `ES256`). */
function algorithmOf(key: KeyObject): 'EdDSA' | 'ES256' {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new AuditCheckpointError('the checkpoint key must be an Ed25519 or P-256 (ES256) key');
}

/** A checkpoint or its key that cannot be used: a plain message for the operator. */
export class AuditCheckpointError extends Error {
  override name = 'AuditCheckpointError';
}

/**
 * Reads a PEM private key (PKCS#8) for signing checkpoints. With `createIfMissing`, a missing file
 * becomes a new Ed25519 key (mode 0600) and its public key is written beside it as `<path>.pub`,
 * for whoever verifies.
 */
export async function loadAuditCheckpointKey(
  path: string,
  options: { createIfMissing?: boolean } = {},
): Promise<{ privateKey: KeyObject; created: boolean }> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !options.createIfMissing) {
      throw new AuditCheckpointError(`cannot read the checkpoint key ${path}: ${(error as Error).message}`);
    }
    const pair = generateKeyPairSync('ed25519');
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // 'wx': never overwrite a key another process has just made.
    await writeFile(path, privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(`${path}.pub`, pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    return { privateKey: pair.privateKey, created: true };
  }
  try {
    const privateKey = createPrivateKey(pem);
    algorithmOf(privateKey);
    return { privateKey, created: false };
  } catch (error) {
    if (error instanceof AuditCheckpointError) throw error;
    throw new AuditCheckpointError(`${path} is not a PEM private key`);
  }
}

/** A PEM public key (SPKI), or the public half of a PEM private key, for verifying checkpoints. */
export function auditCheckpointPublicKey(pem: string): KeyObject {
  try {
    const key = createPublicKey(pem);
    algorithmOf(key);
    return key;
  } catch (error) {
    if (error instanceof AuditCheckpointError) throw error;
    throw new AuditCheckpointError('the checkpoint public key is not a PEM key');
  }
}

/**
 * Signs the chain's current head: a compact JWS (RFC 7515) whose payload is an AuditCheckpoint.
 * @example
 * const { privateKey } = await loadAuditCheckpointKey('/secure/audit-checkpoint.key');
 * await writeFile('checkpoint.jws', await createAuditCheckpoint(store, privateKey));
 */
export async function createAuditCheckpoint(
  store: Store,
  privateKey: KeyObject,
  now: () => Date = () => new Date(),
): Promise<{ jws: string; checkpoint: AuditCheckpoint }> {
  const head = await store.db
    .selectFrom('audit_chain_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  const { count } = await store.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .executeTakeFirstOrThrow();
  const checkpoint: AuditCheckpoint = {
    seq: Number(head.seq),
    hash: head.hash,
    count: Number(count),
    at: now().toISOString(),
  };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(checkpoint)))
    .setProtectedHeader({ alg: algorithmOf(privateKey), typ: CHECKPOINT_TYP })
    .sign(privateKey);
  return { jws, checkpoint };
}

export type AuditCheckpointVerification =
  | (AuditChainVerification & { ok: true; checkpoint: AuditCheckpoint })
  | { ok: false; count: number; firstBroken: { id: string | number; reason: string } };

/**
 * Verifies the chain (as verifyAuditChain) and that it still holds a signed checkpoint: the
 * signature is valid for `publicKey`, and the record at the checkpoint's sequence number exists
 * with the signed hash. Because every later record links back to it, a chain that verifies and
 * holds the checkpoint record was not rewritten at or before the checkpoint, and not cut below it.
 * @example
 * const result = await verifyAuditCheckpoint(store, jws, auditCheckpointPublicKey(pem));
 */
export async function verifyAuditCheckpoint(
  store: Store,
  jws: string,
  publicKey: KeyObject,
): Promise<AuditCheckpointVerification> {
  const checkpoint = await checkedCheckpoint(jws.trim(), publicKey);
  const chain = await verifyAuditChain(store);
  if (!chain.ok) return chain;
  if (checkpoint.seq === 0) return { ...chain, checkpoint };
  const record = await store.db
    .selectFrom('audit_events')
    .select('hash')
    .where('seq', '=', checkpoint.seq)
    .executeTakeFirst();
  if (!record) {
    return {
      ok: false,
      count: chain.count,
      firstBroken: {
        id: checkpoint.seq,
        reason: `deleted: the checkpoint of ${checkpoint.at} signed record ${checkpoint.seq}, but the chain now ends at record ${chain.count}`,
      },
    };
  }
  if (record.hash !== checkpoint.hash) {
    return {
      ok: false,
      count: chain.count,
      firstBroken: {
        id: checkpoint.seq,
        reason: `edited: its hash differs from the one signed in the checkpoint of ${checkpoint.at}; the chain's hashes were rewritten`,
      },
    };
  }
  return { ...chain, checkpoint };
}

async function checkedCheckpoint(jws: string, publicKey: KeyObject): Promise<AuditCheckpoint> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new AuditCheckpointError('the checkpoint is not a JWS');
  }
  if (header.typ !== CHECKPOINT_TYP)
    throw new AuditCheckpointError('the checkpoint is not a Junction audit checkpoint');
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, publicKey, { algorithms: [algorithmOf(publicKey)] }));
  } catch {
    throw new AuditCheckpointError(
      'the checkpoint signature is invalid: it was altered, or signed with another key',
    );
  }
  const value = JSON.parse(new TextDecoder().decode(payload)) as Partial<AuditCheckpoint>;
  if (
    !Number.isSafeInteger(value.seq) ||
    typeof value.hash !== 'string' ||
    !Number.isSafeInteger(value.count) ||
    typeof value.at !== 'string'
  ) {
    throw new AuditCheckpointError('the checkpoint payload is not an audit checkpoint');
  }
  return value as AuditCheckpoint;
}

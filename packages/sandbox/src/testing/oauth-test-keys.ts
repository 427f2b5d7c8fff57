// Test helpers (not exported by the package): RS512 keys generated per test run and hand-built
// client assertions, so a test can put any header or claim value in, even ones jose would refuse.
import { createPrivateKey, createSign, type KeyObject, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface TestKey {
  kid: string;
  publicJwk: JWK;
  privateKey: KeyObject;
}

export async function testKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS512', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS512', use: 'sig' };
  const privateJwk = await exportJWK(privateKey);
  return { kid, publicJwk, privateKey: createPrivateKey({ key: privateJwk as never, format: 'jwk' }) };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS over `header` and `payload`, RSA-SHA512 signed whatever `header.alg` says. */
export function signAssertion(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: KeyObject,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = createSign('RSA-SHA512').update(input).sign(privateKey).toString('base64url');
  return `${input}.${signature}`;
}

export interface AssertionOptions {
  key: TestKey;
  apiKey: string;
  aud: string;
  nowS: number;
  /** Header members to set (`undefined` removes one). */
  header?: Record<string, unknown>;
  /** Claims to set (`undefined` removes one). */
  claims?: Record<string, unknown>;
}

/** A valid client assertion (as the NHS tutorial builds it) with the given changes. */
export function clientAssertion(o: AssertionOptions): string {
  const header = withChanges({ alg: 'RS512', typ: 'JWT', kid: o.key.kid }, o.header);
  const payload = withChanges(
    { iss: o.apiKey, sub: o.apiKey, aud: o.aud, jti: randomUUID(), exp: o.nowS + 300 },
    o.claims,
  );
  return signAssertion(header, payload, o.key.privateKey);
}

function withChanges(base: Record<string, unknown>, changes: Record<string, unknown> = {}) {
  const out = { ...base, ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete out[k];
  return out;
}

import { randomUUID } from 'node:crypto';
import { type CryptoKey, importJWK, importPKCS8, type JWK, type KeyObject, SignJWT } from 'jose';
import { AuthError } from './auth-error.js';

/** A private signing key in any form jose accepts, or a PKCS#8 PEM string. */
export type PrivateKeyInput = CryptoKey | KeyObject | JWK | string;

/** The platform rejects an `exp` more than 5 minutes ahead (its check is > 310 s). */
export const CLIENT_ASSERTION_TTL_S = 300;
export const CLIENT_ASSERTION_ALG = 'RS512';

export interface ClientAssertionOptions {
  apiKey: string;
  tokenUrl: string;
  kid: string;
  key: CryptoKey | KeyObject;
  now: Date;
  jti?: string;
}

/**
 * Signs the NHS API platform client assertion (identity-service-api
 * `validate-client-assertion-claims.js`): RS512, `kid`, `typ: JWT`, `iss` = `sub` = API key,
 * `aud` = token URL, unique `jti`, `exp` = now + 300 s.
 *
 * @example
 * const jwt = await signClientAssertion({ apiKey, tokenUrl, kid: 'test-1', key: await loadPrivateKey(pem), now: new Date() });
 */
export async function signClientAssertion(options: ClientAssertionOptions): Promise<string> {
  const nowS = Math.floor(options.now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: CLIENT_ASSERTION_ALG, kid: options.kid, typ: 'JWT' })
    .setIssuer(options.apiKey)
    .setSubject(options.apiKey)
    .setAudience(options.tokenUrl)
    .setJti(options.jti ?? randomUUID())
    .setExpirationTime(nowS + CLIENT_ASSERTION_TTL_S)
    .sign(options.key);
}

/**
 * Turns a key in any accepted form into one jose signs with (imported once, not per token).
 *
 * @example
 * const key = await loadPrivateKey(readFileSync('private.pem', 'utf8'));
 */
export async function loadPrivateKey(input: PrivateKeyInput): Promise<CryptoKey | KeyObject> {
  try {
    if (typeof input === 'string') return await importPKCS8(input, CLIENT_ASSERTION_ALG);
    if (isJwk(input)) {
      const key = await importJWK(input, CLIENT_ASSERTION_ALG);
      if (key instanceof Uint8Array) throw new TypeError('a symmetric JWK cannot sign RS512');
      return key;
    }
    return input;
  } catch (cause) {
    throw new AuthError('invalid_private_key', {
      description: 'The private key could not be imported for RS512',
      cause,
    });
  }
}

function isJwk(input: CryptoKey | KeyObject | JWK): input is JWK {
  return typeof (input as JWK).kty === 'string' && !('type' in input && 'algorithm' in input);
}

import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** An RS512 signing key of an identity provider: the private JWK for oidc-provider, the public one for its JWKS. */
export interface SigningKey {
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Makes a fresh RSA key (2048 bits) for RS512 signatures, with a random `kid`. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS512', {
    extractable: true,
    modulusLength: 2048,
  });
  const kid = randomUUID();
  const meta = { kid, alg: 'RS512', use: 'sig' };
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...meta },
    publicJwk: { ...(await exportJWK(publicKey)), ...meta },
  };
}

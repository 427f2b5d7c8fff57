import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { registeredAppFromJwks } from './registered-app.js';

describe('registeredAppFromJwks', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS512', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'key-1' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'key-1' };

  it('registers an app from a public JWK set', () => {
    expect(registeredAppFromJwks('api-key', { keys: [publicJwk] })).toEqual({
      apiKey: 'api-key',
      jwks: { keys: [publicJwk] },
    });
  });

  it('accepts an empty key set (the token endpoint then asks for a public key)', () => {
    expect(registeredAppFromJwks('api-key', { keys: [] }).jwks.keys).toEqual([]);
  });

  it.each([
    ['an empty API key', '', { keys: [] }, /API key/],
    ['no keys array', 'k', { kid: 'x' }, /"keys" array/],
    ['null', 'k', null, /"keys" array/],
    ['a key without kid', 'k', { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] }, /no "kid"/],
    ['a non-object key', 'k', { keys: ['x'] }, /not an object/],
  ])('rejects %s', (_case, apiKey, jwks, message) => {
    expect(() => registeredAppFromJwks(apiKey, jwks)).toThrow(message);
  });

  it('records the app client ids at NHS login and CIS2 (token exchange aud)', () => {
    expect(
      registeredAppFromJwks(
        'api-key',
        { keys: [] },
        { nhsLoginClientId: 'nl-1', cis2ClientId: '9.apps.national' },
      ),
    ).toEqual({
      apiKey: 'api-key',
      jwks: { keys: [] },
      nhsLoginClientId: 'nl-1',
      cis2ClientId: '9.apps.national',
    });
    expect(() => registeredAppFromJwks('k', { keys: [] }, { cis2ClientId: ' ' })).toThrow(/cis2ClientId/);
  });

  it('rejects a private key', () => {
    expect(() => registeredAppFromJwks('k', { keys: [privateJwk] })).toThrow(/public keys only/);
  });
});

import { describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TTL_S, AccessTokenStore } from './access-token-store.js';

const APP = { apiKey: 'app-1', jwks: { keys: [] } };
const T0 = Date.UTC(2026, 0, 1);

function storeAt(startMs: number) {
  const clock = { nowMs: startMs };
  return { clock, store: new AccessTokenStore({ now: () => new Date(clock.nowMs) }) };
}

describe('AccessTokenStore', () => {
  it('issues opaque random tokens that live 599 s', () => {
    const { store } = storeAt(T0);
    const a = store.issue(APP);
    const b = store.issue(APP);
    expect(a.expiresInS).toBe(599);
    expect(ACCESS_TOKEN_TTL_S).toBe(599);
    expect(a.accessToken).toMatch(/^[A-Za-z0-9]{28}$/);
    expect(a.accessToken).not.toBe(b.accessToken);
  });

  it('verifies a token to its app until 599 s have passed on the injected clock', () => {
    const { clock, store } = storeAt(T0);
    const { accessToken } = store.issue(APP);
    expect(store.verify(accessToken)).toEqual({ apiKey: 'app-1', accessMode: 'application-restricted' });
    clock.nowMs = T0 + 599_000 - 1;
    expect(store.verify(accessToken)?.apiKey).toBe('app-1');
    clock.nowMs = T0 + 599_000;
    expect(store.verify(accessToken)).toBeUndefined();
  });

  it('keeps the grant a token was issued with, and does not share it with the caller', () => {
    const { store } = storeAt(T0);
    const grant = {
      accessMode: 'patient',
      nhsNumber: '9000000009',
      identityProofingLevel: 'P9',
      vot: 'P9.Cp.Cd',
    } as const;
    const { accessToken } = store.issue(APP, { ...grant });
    const verified = store.verify(accessToken);
    expect(verified).toEqual({ apiKey: 'app-1', ...grant });
    if (verified?.accessMode === 'patient') verified.nhsNumber = '9000000017';
    expect(store.verify(accessToken)).toMatchObject({ nhsNumber: '9000000009' });
  });

  it('knows nothing of tokens it did not issue', () => {
    const { store } = storeAt(T0);
    store.issue(APP);
    expect(store.verify('not-a-token')).toBeUndefined();
    expect(store.verify('')).toBeUndefined();
  });

  it('drops expired tokens as new ones are issued, so memory stays bounded', () => {
    const { clock, store } = storeAt(T0);
    for (let i = 0; i < 100; i++) store.issue(APP);
    expect(store.size).toBe(100);
    clock.nowMs = T0 + 599_000;
    const fresh = store.issue(APP);
    expect(store.size).toBe(1);
    expect(store.verify(fresh.accessToken)?.apiKey).toBe('app-1');
  });
});

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UUID_V4 } from '../testing/fake-fetch.js';
import { meshAuthorization, meshTimestamp } from './auth.js';

// Neither NHSDigital/mesh-client nor NHSDigital/mesh-sandbox publishes a fixed token in its tests (they build
// tokens at run time) and the spec's examples use a redacted key. These vectors were derived by running
// mesh-sandbox's own `generate_cipher_text` (src/mesh_sandbox/common/__init__.py: `hmac.HMAC(secret_key,
// f"{mailbox_id}:{nonce}:{nonce_count}:{mailbox_password}:{timestamp}", sha256).hexdigest()`) under Python 3.11.
describe('meshAuthorization (mesh-api.yaml "MESH Authorization header")', () => {
  it("matches mesh-sandbox's generate_cipher_text for the sandbox key TestKey", () => {
    expect(
      meshAuthorization({
        mailboxId: 'X26ABC1',
        password: 'password',
        sharedKey: 'TestKey',
        nonce: '3f2c8a4e-6b1d-4c2e-9a7f-0d5e8b1c2a34',
        nonceCount: 0,
        now: new Date('2025-11-25T15:22:59.999Z'),
      }),
    ).toBe(
      'NHSMESH X26ABC1:3f2c8a4e-6b1d-4c2e-9a7f-0d5e8b1c2a34:0:202511251522:cb4a4d9b503c7cc00734af9db510f60517b8f02c071d0b5259377ccaee85a3ef',
    );
  });

  it("matches it for mesh-client's default key BackBone, a nonce count and a lower-case mailbox id", () => {
    expect(
      meshAuthorization({
        mailboxId: 'x26hc005',
        password: 'secret',
        sharedKey: Buffer.from('BackBone'),
        nonce: '1c820cd4-be3e-43ff-807f-e65362892722',
        nonceCount: 1,
        now: new Date('2020-06-04T17:18:00Z'),
      }),
    ).toBe(
      'NHSMESH X26HC005:1c820cd4-be3e-43ff-807f-e65362892722:1:202006041718:b10849d6dcb5f5665616634db0d01da151c68f3683296f1deb10f22b95ad7e9f',
    );
  });

  it('uses a fresh UUID nonce with count 0 on every call, and the HMAC checks out', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const a = meshAuthorization({ mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey', now });
    const b = meshAuthorization({ mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey', now });
    expect(a).not.toBe(b);
    const [scheme, rest] = a.split(' ');
    expect(scheme).toBe('NHSMESH');
    const [mailbox, nonce, count, timestamp, hash] = (rest ?? '').split(':');
    expect(nonce).toMatch(UUID_V4);
    expect(count).toBe('0');
    expect(timestamp).toBe('202601010000');
    expect(hash).toBe(
      createHmac('sha256', 'TestKey').update(`${mailbox}:${nonce}:0:password:${timestamp}`).digest('hex'),
    );
  });

  it('formats the timestamp as yyyyMMddHHmm in UTC', () => {
    expect(meshTimestamp(new Date('2020-05-04T13:05:59Z'))).toBe('202005041305');
    expect(meshTimestamp(new Date('2020-12-31T23:59:00-02:00'))).toBe('202101010159');
  });

  it('refuses a negative nonce count or a ":" inside an element', () => {
    const base = { mailboxId: 'X26ABC1', password: 'p', sharedKey: 'k' };
    expect(() => meshAuthorization({ ...base, nonceCount: -1 })).toThrow(RangeError);
    expect(() => meshAuthorization({ ...base, nonce: 'a:b' })).toThrow(RangeError);
  });
});

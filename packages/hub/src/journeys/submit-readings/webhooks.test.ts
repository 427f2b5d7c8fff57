import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_TOLERANCE_S, signWebhookBody, verifyWebhookSignature } from './webhooks.js';

/**
 * Webhook signatures: `X-Junction-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`,
 * both sides (the hub signs, a product verifies). The job handler's use of it is tested in the
 * journey test (journey.test.ts) and the routes test.
 */
const SECRET = 'whsec_test-secret-for-signatures';
const SENT_AT = new Date('2025-05-06T07:08:09.500Z');
const T = 1746515289; // SENT_AT in whole seconds
const BODY = '{"id":"s-1:delivered","type":"submission.delivered"}';
const at = (ms: number) => () => new Date(SENT_AT.getTime() + ms);

describe('signWebhookBody', () => {
  it('is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"> (recomputed here independently)', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signWebhookBody(SECRET, BODY, SENT_AT)).toBe(`t=${T},v1=${expected}`);
  });

  it('signs bytes and the same text alike, and differs with the time', () => {
    expect(signWebhookBody(SECRET, new TextEncoder().encode(BODY), SENT_AT)).toBe(
      signWebhookBody(SECRET, BODY, SENT_AT),
    );
    expect(signWebhookBody(SECRET, BODY, new Date(SENT_AT.getTime() + 1000))).not.toBe(
      signWebhookBody(SECRET, BODY, SENT_AT),
    );
  });
});

describe('verifyWebhookSignature', () => {
  const header = signWebhookBody(SECRET, BODY, SENT_AT);

  it('accepts a good signature, as text or bytes, and tells when it was signed', () => {
    expect(verifyWebhookSignature(SECRET, header, BODY, { now: at(2_000) })).toEqual({
      ok: true,
      signedAt: new Date(T * 1000),
    });
    expect(verifyWebhookSignature(SECRET, header, Buffer.from(BODY), { now: at(2_000) })).toMatchObject({
      ok: true,
    });
  });

  it('refuses a tampered body', () => {
    const tampered = BODY.replace('delivered"}', 'failed"}');
    expect(verifyWebhookSignature(SECRET, header, tampered, { now: at(0) })).toEqual({
      ok: false,
      reason: 'signature-mismatch',
    });
    // Whitespace counts too: verify the raw bytes, not re-serialised JSON.
    expect(
      verifyWebhookSignature(SECRET, header, JSON.stringify(JSON.parse(BODY), null, 1), { now: at(0) }),
    ).toMatchObject({ ok: false, reason: 'signature-mismatch' });
  });

  it('refuses the wrong secret', () => {
    expect(verifyWebhookSignature('whsec_other', header, BODY, { now: at(0) })).toEqual({
      ok: false,
      reason: 'signature-mismatch',
    });
  });

  it('refuses a timestamp moved to make an old signature look fresh', () => {
    const moved = header.replace(`t=${T}`, `t=${T + 600}`);
    expect(verifyWebhookSignature(SECRET, moved, BODY, { now: at(600_000) })).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
  });

  it(`refuses a replay older than ${SIGNATURE_TOLERANCE_S} s, and a signature from the future beyond it`, () => {
    // 5 minutes exactly is still accepted; one second more is not.
    const edge = (T + SIGNATURE_TOLERANCE_S) * 1000;
    expect(verifyWebhookSignature(SECRET, header, BODY, { now: () => new Date(edge) })).toMatchObject({
      ok: true,
    });
    expect(verifyWebhookSignature(SECRET, header, BODY, { now: () => new Date(edge + 1_000) })).toEqual({
      ok: false,
      reason: 'timestamp-out-of-tolerance',
    });
    expect(
      verifyWebhookSignature(SECRET, header, BODY, {
        now: () => new Date((T - SIGNATURE_TOLERANCE_S - 1) * 1000),
      }),
    ).toEqual({ ok: false, reason: 'timestamp-out-of-tolerance' });
  });

  it('takes another tolerance when asked', () => {
    expect(
      verifyWebhookSignature(SECRET, header, BODY, { now: at(3_600_000), toleranceS: 7_200 }),
    ).toMatchObject({ ok: true });
    expect(verifyWebhookSignature(SECRET, header, BODY, { now: at(11_000), toleranceS: 10 })).toMatchObject({
      ok: false,
      reason: 'timestamp-out-of-tolerance',
    });
  });

  it('accepts any one matching v1 (several during a secret change) and skips unknown schemes', () => {
    const v1 = header.split(',v1=')[1] as string;
    const other = 'a'.repeat(64);
    for (const h of [`t=${T},v1=${other},v1=${v1}`, `t=${T},v0=old,v1=${v1}`, ` t=${T} , v1=${v1} `]) {
      expect(verifyWebhookSignature(SECRET, h, BODY, { now: at(0) }), h).toMatchObject({ ok: true });
    }
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['an array of headers', [header, header]],
    ['the old sha256= form', `sha256=${'a'.repeat(64)}`],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['no v1', `t=${T}`],
    ['two timestamps', `t=${T},t=${T},v1=${'a'.repeat(64)}`],
    ['a timestamp that is not a number', `t=soon,v1=${'a'.repeat(64)}`],
    ['a short v1', `t=${T},v1=abcd`],
    ['an upper-case v1', `t=${T},v1=${'A'.repeat(64)}`],
    ['a part without =', `t=${T},v1`],
  ])('refuses %s as malformed', (_name, value) => {
    expect(verifyWebhookSignature(SECRET, value, BODY, { now: at(0) })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});

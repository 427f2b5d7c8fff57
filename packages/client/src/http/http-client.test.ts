import { OperationOutcomeError, spineOutcome } from '@junction/core';
import { describe, expect, it } from 'vitest';
import { fakeFetch, networkFailure, recordingSleep, UUID_V4 } from '../testing/fake-fetch.js';
import { HttpClient, type HttpClientOptions, type HttpRequest } from './http-client.js';
import type { AccessTokenProvider } from './types.js';

const BASE = 'https://pds.test/personal-demographics/FHIR/R4/';
const FIXED_NOW = new Date('2026-01-01T12:00:00Z');
const GET: HttpRequest = {
  method: 'GET',
  path: '/Patient/9000000009',
  retry: 'idempotent',
  operation: 'PDS read patient',
};
const CREATE: HttpRequest = {
  method: 'POST',
  path: '/Patient',
  json: {},
  retry: 'rejected-only',
  operation: 'PDS create patient',
};
const OK = { status: 200, body: { resourceType: 'Patient', id: '9000000009' } };

function client(fetchImpl: typeof fetch, extra: Partial<HttpClientOptions> = {}) {
  const { sleep, waits } = recordingSleep();
  const http = new HttpClient({
    baseUrl: BASE,
    fetch: fetchImpl,
    now: () => FIXED_NOW,
    sleep,
    random: () => 0.5,
    ...extra,
  });
  return { http, waits };
}

async function rejection(promise: Promise<unknown>): Promise<OperationOutcomeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperationOutcomeError);
  return error as OperationOutcomeError;
}

describe('HttpClient headers (personal-demographics.yaml components/parameters)', () => {
  it('joins the base URL, sends a UUID v4 X-Request-ID, a generated X-Correlation-ID and FHIR Accept', async () => {
    const { fetch, calls } = fakeFetch(OK);
    const res = await client(fetch).http.request(GET);
    const sent = calls[0];
    expect(sent?.url.href).toBe('https://pds.test/personal-demographics/FHIR/R4/Patient/9000000009');
    expect(sent?.headers.get('x-request-id')).toMatch(UUID_V4);
    expect(sent?.headers.get('x-correlation-id')).toMatch(UUID_V4);
    expect(sent?.headers.get('x-correlation-id')).not.toBe(sent?.headers.get('x-request-id'));
    expect(sent?.headers.get('accept')).toBe('application/fhir+json');
    expect(sent?.headers.has('authorization')).toBe(false);
    expect(sent?.headers.has('nhsd-end-user-organisation-ods')).toBe(false);
    expect(res.requestId).toBe(sent?.headers.get('x-request-id'));
  });

  it('sends context headers when given', async () => {
    const { fetch, calls } = fakeFetch(OK);
    await client(fetch).http.request(GET, {
      correlationId: 'corr-1',
      endUserOrganisationOds: 'Y12345',
      sessionUrid: '555254240100',
    });
    expect(calls[0]?.headers.get('x-correlation-id')).toBe('corr-1');
    expect(calls[0]?.headers.get('nhsd-end-user-organisation-ods')).toBe('Y12345');
    expect(calls[0]?.headers.get('nhsd-session-urid')).toBe('555254240100');
  });

  it('rejects an illegal header value locally as INVALID_VALUE, without sending or retrying', async () => {
    const { fetch, calls } = fakeFetch(OK);
    const error = await rejection(client(fetch).http.request(GET, { correlationId: 'bad\nvalue' }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.local).toBe(true);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain('bad');
    expect(calls).toHaveLength(0);
  });

  it('uses a new X-Request-ID per logical request', async () => {
    const { fetch, calls } = fakeFetch(OK);
    const { http } = client(fetch);
    await http.request(GET);
    await http.request(GET);
    expect(calls[0]?.headers.get('x-request-id')).not.toBe(calls[1]?.headers.get('x-request-id'));
  });

  it('percent-encodes query values, keeps repeated names and names as given', async () => {
    const { fetch, calls } = fakeFetch({ body: { resourceType: 'Bundle' } });
    await client(fetch).http.request({
      ...GET,
      path: '/Coverage',
      query: [
        ['given', 'John Paul'],
        ['given', 'James'],
        ['subscriber:identifier', 'a&b'],
      ],
    });
    expect(calls[0]?.url.search).toBe('?given=John%20Paul&given=James&subscriber:identifier=a%26b');
  });
});

describe('HttpClient retries', () => {
  it('re-sends a GET after 503 with the same X-Request-ID and X-Correlation-ID', async () => {
    const { fetch, calls } = fakeFetch({ status: 503 }, { status: 502 }, OK);
    const { http, waits } = client(fetch);
    const res = await http.request(GET);
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.headers.get('x-request-id'))).size).toBe(1);
    expect(new Set(calls.map((c) => c.headers.get('x-correlation-id'))).size).toBe(1);
    // full jitter with random() = 0.5 over 200 ms * 2^(n-1)
    expect(waits).toEqual([100, 200]);
  });

  it('honours Retry-After in seconds (429 TOO_MANY_REQUESTS)', async () => {
    const { fetch } = fakeFetch(
      { status: 429, headers: { 'retry-after': '5' }, body: spineOutcome('TOO_MANY_REQUESTS') },
      OK,
    );
    const { http, waits } = client(fetch);
    await http.request(GET);
    expect(waits).toEqual([5000]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const { fetch } = fakeFetch(
      { status: 503, headers: { 'retry-after': 'Thu, 01 Jan 2026 12:00:07 GMT' } },
      OK,
    );
    const { http, waits } = client(fetch);
    await http.request(GET);
    expect(waits).toEqual([7000]);
  });

  it('gives up when Retry-After would exceed the total time budget', async () => {
    const { fetch, calls } = fakeFetch({
      status: 429,
      headers: { 'retry-after': '120' },
      body: spineOutcome('TOO_MANY_REQUESTS'),
    });
    const { http, waits } = client(fetch, { retry: { maxElapsedMs: 60_000 } });
    const error = await rejection(http.request(GET));
    expect(error.status).toBe(429);
    expect(error.code).toBe('TOO_MANY_REQUESTS');
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('stops after maxAttempts and throws the last answer', async () => {
    const { fetch, calls } = fakeFetch({ status: 504 });
    const { http, waits } = client(fetch, { retry: { maxAttempts: 3 } });
    const error = await rejection(http.request(GET));
    expect(error.status).toBe(504);
    expect(calls).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  it('counts elapsed time on the injected clock', async () => {
    let nowMs = FIXED_NOW.getTime();
    const { fetch, calls } = fakeFetch({ status: 503 });
    const http = new HttpClient({
      baseUrl: BASE,
      fetch,
      now: () => new Date(nowMs),
      random: () => 1,
      retry: { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 1000, maxElapsedMs: 2500 },
      sleep: async (ms) => {
        nowMs += ms;
      },
    });
    await rejection(http.request(GET));
    expect(calls).toHaveLength(3); // waits at 0 s and 1 s fit in 2.5 s; a third would end at 3 s
  });

  it('retries network failures for idempotent requests and maps the final one to UNABLE_TO_CALL_SERVICE', async () => {
    const { fetch, calls } = fakeFetch(networkFailure('ECONNREFUSED'));
    const { http } = client(fetch, { retry: { maxAttempts: 2 } });
    const error = await rejection(http.request(GET));
    expect(calls).toHaveLength(2);
    expect(error.status).toBe(502);
    expect(error.code).toBe('UNABLE_TO_CALL_SERVICE');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('9000000009');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('treats an attempt timeout as a 504 network failure', async () => {
    const hang: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const { http } = client(hang, { retry: { maxAttempts: 1, attemptTimeoutMs: 5 } });
    const error = await rejection(http.request(GET));
    expect(error.status).toBe(504);
    expect(error.code).toBe('UNABLE_TO_CALL_SERVICE');
  });

  it.each([400, 403, 404, 409, 412])('does not retry a %i', async (status) => {
    const { fetch, calls } = fakeFetch({ status, body: spineOutcome('INVALID_VALUE') });
    const error = await rejection(client(fetch).http.request(GET));
    expect(error.status).toBe(status);
    expect(calls).toHaveLength(1);
  });

  it('does not re-send a create after a network failure, 502 or 504 (the record may exist)', async () => {
    for (const reply of [networkFailure(), { status: 502 }, { status: 504 }, { status: 408 }]) {
      const { fetch, calls } = fakeFetch(reply, { status: 201, body: {} });
      await rejection(client(fetch).http.request(CREATE));
      expect(calls).toHaveLength(1);
    }
  });

  it('re-sends a create after 503 with Retry-After and the same X-Request-ID (patient-create.yaml)', async () => {
    const { fetch, calls } = fakeFetch(
      { status: 503, headers: { 'retry-after': '2' }, body: spineOutcome('SERVICE_UNAVAILABLE') },
      { status: 201, body: {} },
    );
    const { http, waits } = client(fetch);
    const res = await http.request(CREATE);
    expect(res.status).toBe(201);
    expect(waits).toEqual([2000]);
    expect(calls[0]?.headers.get('x-request-id')).toBe(calls[1]?.headers.get('x-request-id'));
    expect(calls[1]?.body).toBe('{}');
  });

  it('never sends or retries a body JSON cannot serialise (too deep: RangeError; a cycle: TypeError): a local 400', async () => {
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const json of [deep, cyclic]) {
      const { fetch, calls } = fakeFetch(OK);
      const { http, waits } = client(fetch);
      const error = await rejection(http.request({ ...GET, method: 'PATCH', json }));
      expect(calls).toHaveLength(0);
      expect(waits).toEqual([]);
      expect(error.status).toBe(400);
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.local).toBe(true);
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(
        'INVALID_VALUE: PDS read patient: the request body cannot be serialised as JSON',
      );
    }
  });

  it('a network failure is not local, and retryable', async () => {
    const { fetch } = fakeFetch(networkFailure('ECONNRESET'));
    const error = await rejection(client(fetch, { retry: { maxAttempts: 1 } }).http.request(GET));
    expect(error.local).toBe(false);
    expect(error.retryable).toBe(true);
  });

  it("mode 'never' sends once", async () => {
    const { fetch, calls } = fakeFetch({ status: 503 });
    await rejection(client(fetch).http.request({ ...GET, retry: 'never' }));
    expect(calls).toHaveLength(1);
  });
});

describe('HttpClient errors', () => {
  it("keeps the server's OperationOutcome and status", async () => {
    const outcome = spineOutcome('RESOURCE_NOT_FOUND');
    const { fetch } = fakeFetch({ status: 404, body: outcome });
    const error = await rejection(client(fetch).http.request(GET));
    expect(error.status).toBe(404);
    expect(error.outcome).toEqual(outcome);
    expect(error.code).toBe('RESOURCE_NOT_FOUND');
  });

  it('synthesises an OperationOutcome for a non-FHIR body without echoing it or the URL', async () => {
    const { fetch } = fakeFetch({ status: 502, body: '<html>Bad gateway for Jane Smith</html>' });
    const error = await rejection(client(fetch, { retry: { maxAttempts: 1 } }).http.request(GET));
    expect(error.status).toBe(502);
    expect(error.code).toBe('UNABLE_TO_CALL_SERVICE');
    expect(error.message).toBe('UNABLE_TO_CALL_SERVICE: PDS read patient failed with HTTP 502');
    expect(JSON.stringify(error.outcome)).not.toMatch(/Jane|9000000009/);
  });

  it('synthesises a plain issue for a status with no Spine equivalent', async () => {
    const { fetch } = fakeFetch({ status: 418 });
    const error = await rejection(client(fetch).http.request(GET));
    expect(error.status).toBe(418);
    expect(error.outcome.issue?.[0]?.code).toBe('processing');
  });
});

describe('HttpClient auth and abort', () => {
  function tokens(...values: string[]): AccessTokenProvider & { invalidated: string[] } {
    const invalidated: string[] = [];
    let i = 0;
    return {
      invalidated,
      getAccessToken: async () => values[Math.min(i, values.length - 1)] as string,
      invalidateAccessToken: (token) => {
        invalidated.push(token);
        i++;
      },
    };
  }

  it('sends the bearer token and, on one 401, refreshes it and re-sends (even a POST)', async () => {
    const auth = tokens('old', 'new');
    const { fetch, calls } = fakeFetch(
      { status: 401, body: spineOutcome('ACCESS_DENIED', {}) },
      { status: 201, body: {} },
    );
    const res = await client(fetch, { auth }).http.request(CREATE);
    expect(res.status).toBe(201);
    expect(calls.map((c) => c.headers.get('authorization'))).toEqual(['Bearer old', 'Bearer new']);
    expect(auth.invalidated).toEqual(['old']);
    expect(calls[0]?.headers.get('x-request-id')).toBe(calls[1]?.headers.get('x-request-id'));
  });

  it('gives up after a second 401', async () => {
    const auth = tokens('a', 'b', 'c');
    const { fetch, calls } = fakeFetch({ status: 401, body: spineOutcome('ACCESS_DENIED') });
    const error = await rejection(client(fetch, { auth }).http.request(GET));
    expect(error.status).toBe(401);
    expect(calls).toHaveLength(2);
  });

  it('maps a token failure to an OperationOutcomeError keeping the cause', async () => {
    const cause = Object.assign(new Error('invalid_request: bad kid'), {
      code: 'invalid_request',
      status: 400,
    });
    const auth: AccessTokenProvider = { getAccessToken: () => Promise.reject(cause) };
    const { fetch, calls } = fakeFetch(OK);
    const error = await rejection(client(fetch, { auth }).http.request(GET));
    expect(error.status).toBe(401);
    expect(error.code).toBe('ACCESS_DENIED');
    expect(error.message).toContain('invalid_request');
    expect(error.cause).toBe(cause);
    expect(calls).toHaveLength(0);
  });

  it('rejects with the abort reason and stops retrying when the signal aborts during backoff', async () => {
    const controller = new AbortController();
    const { fetch, calls } = fakeFetch({ status: 503 });
    const http = new HttpClient({
      baseUrl: BASE,
      fetch,
      sleep: async (_ms, signal) => {
        controller.abort(new Error('caller gave up'));
        signal?.throwIfAborted();
      },
    });
    await expect(http.request(GET, { signal: controller.signal })).rejects.toThrow('caller gave up');
    expect(calls).toHaveLength(1);
  });

  it('does not send at all when already aborted', async () => {
    const { fetch, calls } = fakeFetch(OK);
    await expect(client(fetch).http.request(GET, { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(calls).toHaveLength(0);
  });
});

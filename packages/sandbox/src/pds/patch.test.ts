import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { PDS_PREFIX, pdsTestApp, REQUEST_ID } from '../testing/pds-test-app.js';
import type { PdsPluginOptions } from './index.js';
import { SEED_NHS_NUMBERS as N } from './seed-patients.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});
async function start(options: PdsPluginOptions = {}) {
  app = await pdsTestApp(options);
  return app;
}

const patch = (a: FastifyInstance, id: string, body: unknown, headers: Record<string, string> = {}) =>
  a.inject({
    method: 'PATCH',
    url: `${PDS_PREFIX}/Patient/${id}`,
    headers: {
      'x-request-id': REQUEST_ID,
      'if-match': 'W/"2"',
      'content-type': 'application/json-patch+json',
      ...headers,
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
const read = (a: FastifyInstance, id: string) =>
  a.inject({ method: 'GET', url: `${PDS_PREFIX}/Patient/${id}`, headers: { 'x-request-id': REQUEST_ID } });
const outcome = (body: string) => (JSON.parse(body) as OperationOutcome).issue[0];

describe('PATCH /Patient/{id} (specification/components/paths/patient-patch.yaml)', () => {
  it('applies a wrapped JSON Patch, increments versionId and returns the new ETag (stateful: next read sees it)', async () => {
    const a = await start();
    const res = await patch(a, N.janeSmith, { patches: [{ op: 'replace', path: '/gender', value: 'male' }] });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('W/"3"');
    expect(res.json<Patient>()).toMatchObject({ gender: 'male', meta: { versionId: '3' } });
    const after = await read(a, N.janeSmith);
    expect(after.headers.etag).toBe('W/"3"');
    expect(after.json<Patient>().gender).toBe('male');
    expect(
      (await patch(a, N.janeSmith, { patches: [{ op: 'replace', path: '/gender', value: 'female' }] }))
        .statusCode,
    ).toBe(409);
  });

  it('in stateless mode returns the patched record but keeps the stored one (NHS public sandbox)', async () => {
    const a = await start({ mode: 'stateless' });
    const res = await patch(a, N.janeSmith, { patches: [{ op: 'replace', path: '/gender', value: 'male' }] });
    expect(res.json<Patient>().gender).toBe('male');
    const after = await read(a, N.janeSmith);
    expect(after.headers.etag).toBe('W/"2"');
    expect(after.json<Patient>().gender).toBe('female');
  });

  it('adds to a top-level list only through /-, giving the new item an id and a start date', async () => {
    const a = await start();
    const name = { use: 'nickname', given: ['Janey'], family: 'Smith' };
    const res = await patch(a, N.janeSmith, { patches: [{ op: 'add', path: '/name/-', value: name }] });
    expect(res.statusCode).toBe(200);
    const added = res.json<Patient>().name?.[1];
    expect(added).toMatchObject({ ...name, period: { start: '2025-06-01' } });
    expect(added?.id).toMatch(/^[0-9A-F]{8}$/);
    const indexed = await patch(
      a,
      N.janeSmith,
      { patches: [{ op: 'add', path: '/name/1', value: name }] },
      { 'if-match': 'W/"3"' },
    );
    expect(indexed.statusCode).toBe(400);
    expect(outcome(indexed.body)?.details?.coding?.[0]?.code).toBe('INVALID_UPDATE');
  });

  it('is all-or-nothing: a failing test op leaves the record unchanged', async () => {
    const a = await start();
    const res = await patch(a, N.janeSmith, {
      patches: [
        { op: 'replace', path: '/gender', value: 'male' },
        { op: 'test', path: '/name/0/id', value: 'not-the-id' },
        { op: 'replace', path: '/name/0/family', value: 'Jones' },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(outcome(res.body)?.details?.coding?.[0]?.code).toBe('INVALID_UPDATE');
    expect((await read(a, N.janeSmith)).json<Patient>()).toMatchObject({
      gender: 'female',
      meta: { versionId: '2' },
    });
  });

  it('removes a list item only right after a test of its id, and never the usual name', async () => {
    const a = await start();
    const unguarded = await patch(a, N.janeSmith, { patches: [{ op: 'remove', path: '/address/1' }] });
    expect(outcome(unguarded.body)?.diagnostics).toBe(
      "Invalid update with error - removal '/address/1' is not immediately preceded by equivalent test - instead it is the first item",
    );
    const guarded = await patch(a, N.janeSmith, {
      patches: [
        { op: 'test', path: '/address/1/id', value: 'T456' },
        { op: 'remove', path: '/address/1' },
      ],
    });
    expect(guarded.statusCode).toBe(200);
    expect(guarded.json<Patient>().address).toHaveLength(1);
    const usual = await patch(
      a,
      N.janeSmith,
      {
        patches: [
          { op: 'test', path: '/name/0/id', value: '123' },
          { op: 'remove', path: '/name/0' },
        ],
      },
      { 'if-match': 'W/"3"' },
    );
    expect(usual.statusCode).toBe(403);
    expect(outcome(usual.body)).toMatchObject({
      diagnostics: 'Forbidden update with error - not permitted to remove usual name',
    });
  });

  it('requires the item id when changing part of a list item', async () => {
    const a = await start();
    const res = await patch(a, N.janeSmith, {
      patches: [{ op: 'replace', path: '/address/0/postalCode', value: 'LS1 4BU' }],
    });
    expect(outcome(res.body)?.diagnostics).toBe(
      'Invalid update with error - no id or url found for path with root /address/0',
    );
    const ok = await patch(a, N.janeSmith, {
      patches: [
        { op: 'test', path: '/address/0/id', value: '456' },
        { op: 'replace', path: '/address/0/postalCode', value: 'LS1 4BU' },
      ],
    });
    expect(ok.json<Patient>().address?.[0]?.postalCode).toBe('LS1 4BU');
  });

  it.each([
    [{ patches: [] }, {}, 400, 'INVALID_UPDATE', 'Invalid update with error - No patches found'],
    [{ correction: false }, {}, 400, 'INVALID_UPDATE', 'Invalid update with error - No patches found'],
    [
      { patches: [{ op: 'bad_value', path: '/gender' }] },
      {},
      400,
      'INVALID_VALUE',
      "Invalid value - 'bad_value' in field '0/op'",
    ],
    [
      { patches: [{ op: 'remove', path: '/gender' }] },
      {},
      403,
      'FORBIDDEN_UPDATE',
      "Forbidden update with error - source not permitted to remove 'gender'",
    ],
    [
      { patches: [{ op: 'replace', path: '/pets', value: 1 }] },
      {},
      400,
      'INVALID_UPDATE',
      "Invalid update with error - Update unsupported for resource - 'pets'",
    ],
    [
      { patches: [{ op: 'replace', path: '/id', value: '9000000017' }] },
      {},
      403,
      'FORBIDDEN_UPDATE',
      undefined,
    ],
    [
      { patches: [{ op: 'replace', path: '/gender', value: 'other' }] },
      {},
      400,
      'UNSUPPORTED_VALUE',
      undefined,
    ],
    [
      { patches: [{ op: 'add', path: '/name/-', value: { use: 'usual', family: 'X' } }] },
      {},
      403,
      'FORBIDDEN_UPDATE',
      'Forbidden update with error - multiple usual names cannot be added',
    ],
    [
      { patches: [] },
      { 'if-match': '' },
      412,
      'PRECONDITION_FAILED',
      'Invalid request with error - If-Match header must be supplied to update this resource',
    ],
    [{ patches: [] }, { 'if-match': '2' }, 412, 'PRECONDITION_FAILED', undefined],
    [
      { patches: [{ op: 'replace', path: '/gender', value: 'male' }] },
      { 'if-match': 'W/"1"' },
      409,
      'RESOURCE_VERSION_MISMATCH',
      undefined,
    ],
    [{ patches: [] }, { 'content-type': 'application/fhir+json' }, 400, 'UNSUPPORTED_SERVICE', undefined],
    ['{not json', {}, 400, 'INVALID_UPDATE', undefined],
  ])('rejects %j with headers %j: %i %s', async (body, headers, status, code, diagnostics) => {
    const a = await start();
    const res = await patch(a, N.janeSmith, body, headers as Record<string, string>);
    expect(res.statusCode).toBe(status);
    expect(outcome(res.body)?.details?.coding?.[0]?.code).toBe(code);
    if (diagnostics) expect(outcome(res.body)?.diagnostics).toBe(diagnostics);
  });

  it('answers 400 INVALID_RESOURCE_ID and 404 RESOURCE_NOT_FOUND like a read', async () => {
    const a = await start();
    const body = { patches: [{ op: 'replace', path: '/gender', value: 'male' }] };
    expect((await patch(a, N.invalid, body)).statusCode).toBe(400);
    expect((await patch(a, N.notFound, body)).statusCode).toBe(404);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEED_NHS_NUMBERS } from '../pds/seed-patients.js';
import { createSandboxServer, type SandboxOptions } from '../server.js';
import { meshToken } from '../testing/mesh-token.js';

// Paths, headers, codes: NHSDigital/mesh-api-specification (specification/mesh-api.yaml) and NHS's
// mesh-sandbox (cited per test).
const V2 = 'application/vnd.mesh.v2+json';
const NOW = new Date(Date.UTC(2026, 0, 1, 12, 0));
let clock = NOW;
let server: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  clock = NOW;
});

async function sandbox(mesh: SandboxOptions['mesh'] = {}) {
  server = await createSandboxServer({
    now: () => clock,
    pds: { syntheticPatients: 0 },
    mesh: { admin: true, ...mesh },
  });
  return server;
}

type Call = Omit<InjectOptions, 'headers'> & {
  headers?: Record<string, string>;
  as?: string;
  v2?: boolean;
  token?: string;
};
function call(app: FastifyInstance, { as, v2 = true, token, headers = {}, ...rest }: Call) {
  return app.inject({
    ...rest,
    headers: {
      ...(v2 && { accept: V2 }),
      ...(as && { authorization: token ?? meshToken(as, { at: clock }) }),
      ...headers,
    },
  } as InjectOptions);
}

function send(
  app: FastifyInstance,
  from: string,
  to: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  v2 = true,
) {
  return call(app, {
    method: 'POST',
    url: `/messageexchange/${from}/outbox`,
    as: from,
    v2,
    headers: {
      'mex-to': to,
      'mex-workflowid': 'TEST_WORKFLOW',
      'content-type': 'application/octet-stream',
      ...headers,
    },
    payload: body,
  });
}

/** The status of `method /messageexchange/{mailbox}/{path}`, signed as that mailbox. */
async function statusOf(app: FastifyInstance, method: 'GET' | 'PUT', mailbox: string, path: string) {
  return (await call(app, { method, url: `/messageexchange/${mailbox}/${path}`, as: mailbox })).statusCode;
}

describe('NHSMESH authorisation (mesh-api.yaml "MESH Authorization header")', () => {
  it('accepts a valid token on the handshake (POST /messageexchange/{mailbox_id}) — v2 200 empty, v1 {mailboxId}', async () => {
    const app = await sandbox();
    const hs = { 'mex-clientversion': 'ApiDocs==0.0.1', 'mex-osname': 'Linux', 'mex-osversion': '6' };
    const v2 = await call(app, {
      method: 'POST',
      url: '/messageexchange/X26ABC1',
      as: 'X26ABC1',
      headers: hs,
    });
    expect(v2.statusCode).toBe(200);
    expect(v2.body).toBe('');
    const v1 = await call(app, {
      method: 'POST',
      url: '/messageexchange/X26ABC1',
      as: 'X26ABC1',
      v2: false,
      headers: hs,
    });
    expect(v1.json()).toEqual({ mailboxId: 'X26ABC1' });
    const missing = await call(app, { method: 'POST', url: '/messageexchange/X26ABC1', as: 'X26ABC1' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().detail[0].loc).toEqual(['header', 'mex-clientversion']);
  });

  it('answers 403 with mesh-sandbox texts: no header, bad hash, wrong password, wrong shared key', async () => {
    const app = await sandbox();
    const url = '/messageexchange/X26ABC1/inbox';
    const none = await call(app, { method: 'GET', url, v2: false });
    expect(none.statusCode).toBe(403);
    expect(none.json()).toEqual({
      errorEvent: '',
      errorCode: '',
      errorDescription: 'Error reading from Authorization header',
    });
    for (const token of [
      `${meshToken('X26ABC1', { at: clock }).slice(0, -4)}abcd`,
      meshToken('X26ABC1', { at: clock, password: 'wrong' }),
      meshToken('X26ABC1', { at: clock, sharedKey: 'BackBone' }),
    ]) {
      const res = await call(app, { method: 'GET', url, as: 'X26ABC1', token });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail).toEqual([{ event: '', code: '', msg: 'Invalid Authentication Token' }]);
    }
  });

  it('rejects a replayed token with 403 (a token is valid for one request only)', async () => {
    const app = await sandbox();
    const token = meshToken('X26ABC1', { at: clock });
    const url = '/messageexchange/X26ABC1/inbox';
    expect((await call(app, { method: 'GET', url, as: 'X26ABC1', token })).statusCode).toBe(200);
    const again = await call(app, { method: 'GET', url, as: 'X26ABC1', token });
    expect(again.statusCode).toBe(403);
    expect(again.json().detail[0].msg).toBe('Error Duplicated Authentication Token');
    // Same nonce, next nonce_count: a new token.
    const nonce = 'bd0e2bd5-218e-41d0-83a9-73fdec414803';
    for (const nonceCount of [1, 2]) {
      const fresh = meshToken('X26ABC1', { at: clock, nonce, nonceCount });
      expect((await call(app, { method: 'GET', url, as: 'X26ABC1', token: fresh })).statusCode).toBe(200);
    }
  });

  it('rejects a timestamp more than 2 hours from server time, accepts one within', async () => {
    const app = await sandbox();
    const url = '/messageexchange/X26ABC1/inbox';
    const at = (ms: number) => meshToken('X26ABC1', { at: new Date(NOW.getTime() + ms) });
    const hour = 3_600_000;
    for (const ms of [-2 * hour - 60_000, 2 * hour + 60_000]) {
      const res = await call(app, { method: 'GET', url, as: 'X26ABC1', token: at(ms) });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail[0].msg).toBe('Invalid Authentication Token');
    }
    for (const ms of [-2 * hour, 2 * hour - 60_000]) {
      expect((await call(app, { method: 'GET', url, as: 'X26ABC1', token: at(ms) })).statusCode).toBe(200);
    }
  });

  it('403 "Mailbox id does not match token" for another mailbox or a lower-case token mailbox; EPL-151 for an unknown mailbox', async () => {
    const app = await sandbox();
    // [mailbox in the path, mailbox in the token]: another mailbox's inbox; a lower-case token mailbox.
    for (const [path, tokenMailbox] of [
      ['X26ABC2', 'X26ABC1'],
      ['x26abc1', 'x26abc1'],
    ] as const) {
      const res = await call(app, {
        method: 'GET',
        url: `/messageexchange/${path}/inbox`,
        as: tokenMailbox, // call() signs meshToken(as, { at: clock })
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail[0].msg).toBe('Mailbox id does not match token');
    }
    const unknown = await call(app, {
      method: 'GET',
      url: '/messageexchange/NOPE1/inbox',
      as: 'NOPE1',
      v2: false,
    });
    expect(unknown.statusCode).toBe(403);
    expect(unknown.json()).toEqual({
      errorEvent: 'SEND',
      errorCode: 'EPL-151',
      errorDescription: 'No mailbox matched',
    });
  });
});

describe('NHS MESH sandbox seed (default)', () => {
  it('serves the canned inbox: SIMPLE_MESSAGE, CHUNKED_MESSAGE_GZ in 2 gzip chunks, UNDELIVERED_MESSAGE gone (410)', async () => {
    const app = await sandbox();
    const inbox1 = await call(app, { method: 'GET', url: '/messageexchange/X26ABC1/inbox', as: 'X26ABC1' });
    expect(inbox1.json().messages).toEqual(['SIMPLE_MESSAGE']);
    const simple = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC1/inbox/SIMPLE_MESSAGE',
      as: 'X26ABC1',
    });
    expect(simple.statusCode).toBe(200);
    expect(simple.body).toMatch(/^Lorem ipsum/);
    expect(simple.headers['mex-from']).toBe('X26ABC2');
    const gone = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC1/inbox/UNDELIVERED_MESSAGE',
      as: 'X26ABC1',
      v2: false,
    });
    expect(gone.statusCode).toBe(410);
    expect(gone.json().errorDescription).toBe('Message no longer available for download');
    const first = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC2/inbox/CHUNKED_MESSAGE_GZ',
      as: 'X26ABC2',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(first.statusCode).toBe(206);
    expect(first.headers['mex-chunk-range']).toBe('1:2');
    expect(first.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(first.rawPayload).toString()).toMatch(/^Lorem ipsum/);
    const second = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC2/inbox/CHUNKED_MESSAGE_GZ/2',
      as: 'X26ABC2',
    });
    expect(second.statusCode).toBe(200);
    expect(second.headers['mex-chunk-range']).toBe('2:2');
    expect(second.headers['content-encoding']).toBeUndefined(); // unzipped for a client not accepting gzip
    expect(second.body.length).toBe(331);
  });
});

describe('send and receive (send_message, retrieve_message, acknowledge)', () => {
  it('sends, lists, downloads with every mex-* header, acknowledges (removed), tracks', async () => {
    const app = await sandbox();
    const sent = await send(app, 'X26ABC1', 'x26abc2', 'hello GP', {
      'mex-subject': 'subject',
      'mex-localid': 'local-1',
      'mex-filename': 'hello.txt',
      'mex-content-checksum': 'md5:abc',
      'mex-content-type': 'text/plain',
      'mex-partnerid': 'partner',
    });
    expect(sent.statusCode).toBe(202);
    expect(sent.headers['content-type']).toContain(V2);
    const id = sent.json().message_id as string;
    expect(id).toMatch(/^\d{20}_[0-9A-F]{6}$/);
    const v1Sent = await send(app, 'X26ABC1', 'X26ABC2', 'v1', {}, false);
    expect(Object.keys(v1Sent.json())).toEqual(['messageID']);

    const inbox = await call(app, { method: 'GET', url: '/messageexchange/X26ABC2/inbox', as: 'X26ABC2' });
    expect(inbox.json().messages).toEqual(['CHUNKED_MESSAGE_GZ', id, v1Sent.json().messageID]);
    expect(inbox.json().approx_inbox_count).toBe(3);

    const got = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC2/inbox/${id}`,
      as: 'X26ABC2',
    });
    expect(got.statusCode).toBe(200);
    expect(got.body).toBe('hello GP');
    expect(got.headers).toMatchObject({
      'mex-from': 'X26ABC1',
      'mex-to': 'X26ABC2',
      'mex-workflowid': 'TEST_WORKFLOW',
      'mex-messagetype': 'DATA',
      'mex-messageid': id,
      'mex-localid': 'local-1',
      'mex-subject': 'subject',
      'mex-filename': 'hello.txt',
      'mex-content-checksum': 'md5:abc',
      'mex-partnerid': 'partner',
      'mex-chunk-range': '1:1',
      'mex-statuscode': '00',
      'mex-statusevent': 'TRANSFER',
      'mex-statussuccess': 'SUCCESS',
      'content-type': 'text/plain',
    });
    const head = await call(app, {
      method: 'HEAD',
      url: `/messageexchange/X26ABC2/inbox/${id}`,
      as: 'X26ABC2',
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['mex-messageid']).toBe(id);
    expect(head.body).toBe('');

    const tracking = () =>
      call(app, {
        method: 'GET',
        url: `/messageexchange/X26ABC1/outbox/tracking?messageID=${id}`,
        as: 'X26ABC1',
      });
    expect((await tracking()).json()).toMatchObject({
      message_id: id,
      status: 'accepted',
      status_success: true,
      local_id: 'local-1',
    });

    const ack = await call(app, {
      method: 'PUT',
      url: `/messageexchange/X26ABC2/inbox/${id}/status/acknowledged`,
      as: 'X26ABC2',
    });
    expect(ack.statusCode).toBe(200);
    expect(ack.body).toBe('');
    const ackV1 = await call(app, {
      method: 'PUT',
      url: `/messageexchange/X26ABC2/inbox/${id}/status/acknowledged`,
      as: 'X26ABC2',
      v2: false,
    });
    expect(ackV1.json()).toEqual({ messageId: id });
    const after = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC2/inbox',
      as: 'X26ABC2',
      v2: false,
    });
    expect(after.json()).toEqual({ messages: ['CHUNKED_MESSAGE_GZ', v1Sent.json().messageID] });
    expect((await tracking()).json().status).toBe('acknowledged');
    const v1Track = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC1/outbox/tracking?messageID=${id}`,
      as: 'X26ABC1',
      v2: false,
    });
    expect(v1Track.json()).toMatchObject({
      messageId: id,
      dtsId: id,
      statusSuccess: 'SUCCESS',
      recipient: 'X26ABC2',
      localId: 'local-1',
    });
    expect(v1Track.json().downloadTimestamp).toMatch(/^\d{14}$/);
    // Tracking someone else's message or an unknown id: 404 ("intentionally not a 403", mesh-sandbox).
    expect(await statusOf(app, 'GET', 'X26ABC2', `outbox/tracking?messageID=${id}`)).toBe(404);
    expect(await statusOf(app, 'GET', 'X26ABC1', 'outbox/tracking?messageID=NOPE')).toBe(404);
  });

  it('download errors: 404 RECEIVE 20 for an unknown id, 403 for another mailbox, 404 for a chunk past the end', async () => {
    const app = await sandbox();
    const unknown = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC1/inbox/NOPE',
      as: 'X26ABC1',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toEqual([{ event: 'RECEIVE', code: '20', msg: 'Message does not exist' }]);
    expect(await statusOf(app, 'GET', 'X26ABC3', 'inbox/SIMPLE_MESSAGE')).toBe(403);
    expect(await statusOf(app, 'GET', 'X26ABC1', 'inbox/SIMPLE_MESSAGE/2')).toBe(404);
    expect(await statusOf(app, 'PUT', 'X26ABC1', 'inbox/NOPE/status/acknowledged')).toBe(404);
  });

  it('417 SEND 12 for an unknown recipient and SEND 17 for an unregistered workflow, in v1 and v2 shapes', async () => {
    const app = await sandbox();
    const v2 = await send(app, 'X26ABC1', 'NOBODY1', 'x');
    expect(v2.statusCode).toBe(417);
    expect(v2.json()).toMatchObject({
      detail: [{ event: 'SEND', code: '12', msg: 'Unregistered to address' }],
    });
    expect(typeof v2.json().internal_id).toBe('string');
    const v1 = await send(app, 'X26ABC1', 'NOBODY1', 'x', {}, false);
    expect(v1.json()).toEqual({
      errorEvent: 'SEND',
      errorCode: '12',
      errorDescription: 'Unregistered to address',
    });
    // TEST_WORKFLOW: X26ABC1 → X26ABC2 only (workflows.jsonl).
    for (const [from, to, workflow] of [
      ['X26ABC2', 'X26ABC1', 'TEST_WORKFLOW'],
      ['X26ABC1', 'X26ABC3', 'TEST_WORKFLOW'],
      ['X26ABC1', 'X26ABC2', 'NOT_A_WORKFLOW'],
    ] as const) {
      const res = await send(app, from, to, 'x', { 'mex-workflowid': workflow }, false);
      expect(res.statusCode).toBe(417);
      expect(res.json()).toEqual({
        errorEvent: 'SEND',
        errorCode: '17',
        errorDescription: 'Workflow ID not registered for mailbox',
      });
    }
    const noTo = await send(app, 'X26ABC1', '', 'x', {}, false);
    expect(noTo.statusCode).toBe(400);
    expect(noTo.json()).toEqual({ errorEvent: 'SEND', errorCode: '08', errorDescription: 'TO_DTS missing' });
    const noWorkflow = await call(app, {
      method: 'POST',
      url: '/messageexchange/X26ABC1/outbox',
      as: 'X26ABC1',
      headers: { 'mex-to': 'X26ABC2' },
      payload: 'x',
    });
    expect(noWorkflow.statusCode).toBe(400);
    expect(noWorkflow.json().detail[0].loc).toEqual(['header', 'mex-workflowid']);
    const empty = await send(app, 'X26ABC1', 'X26ABC2', '');
    expect(empty.statusCode).toBe(417);
    expect(empty.json().detail[0]).toEqual({
      event: 'COLLECT',
      code: '02',
      msg: 'Data file is missing or inaccessible.',
    });
    const deflate = await send(app, 'X26ABC1', 'X26ABC2', 'x', { 'content-encoding': 'deflate' });
    expect(deflate.statusCode).toBe(422);
    const badRange = await send(app, 'X26ABC1', 'X26ABC2', 'x', { 'mex-chunk-range': '2:3' });
    expect(badRange.statusCode).toBe(417);
    expect(badRange.json().detail[0].code).toBe('InvalidHeaderChunks');
    // Nothing above reached an inbox.
    const inbox = await call(app, { method: 'GET', url: '/messageexchange/X26ABC2/inbox', as: 'X26ABC2' });
    expect(inbox.json().messages).toEqual(['CHUNKED_MESSAGE_GZ']);
  });

  it('rejects an Accept of an unknown vnd.mesh format with 400', async () => {
    const app = await sandbox();
    const res = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC1/inbox',
      as: 'X26ABC1',
      headers: { accept: 'application/vnd.mesh.vx+json' },
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('chunked messages (send_chunk, retrieve_chunk)', () => {
  it('delivers only once every gzip chunk has arrived; downloads 206 then 200', async () => {
    const app = await sandbox();
    const parts = ['first part, ', 'second part, ', 'third part.'];
    const gz = parts.map((p) => gzipSync(Buffer.from(p)));
    const first = await send(app, 'X26ABC1', 'X26ABC2', gz[0] as Buffer, {
      'mex-chunk-range': '1:3',
      'content-encoding': 'gzip',
    });
    expect(first.statusCode).toBe(202);
    const id = first.json().message_id as string;
    const chunk = (n: number, headers: Record<string, string> = {}, v2 = true) =>
      call(app, {
        method: 'POST',
        url: `/messageexchange/X26ABC1/outbox/${id}/${n}`,
        as: 'X26ABC1',
        v2,
        headers: { 'mex-chunk-range': `${n}:3`, 'content-encoding': 'gzip', ...headers },
        payload: gz[n - 1] as Buffer,
      });
    const inbox = async () =>
      (await call(app, { method: 'GET', url: '/messageexchange/X26ABC2/inbox', as: 'X26ABC2' })).json()
        .messages;
    // Out of order: chunk 3 before chunk 2; not delivered until both have arrived.
    const third = await chunk(3, {}, false);
    expect(third.statusCode).toBe(202);
    expect(third.json()).toEqual({ messageID: id, blockID: 3 });
    expect(await inbox()).not.toContain(id);
    expect(
      (await call(app, { method: 'GET', url: `/messageexchange/X26ABC2/inbox/${id}`, as: 'X26ABC2' }))
        .statusCode,
    ).toBe(410);
    const changed = await chunk(2, { 'content-encoding': '' });
    expect(changed.statusCode).toBe(417);
    expect(changed.json().detail[0].msg).toBe('cannot change content encoding');
    expect((await chunk(2, { 'mex-chunk-range': '3:3' })).statusCode).toBe(417);
    const second = await chunk(2);
    expect(second.statusCode).toBe(202);
    expect(second.body).toBe('');
    expect(await inbox()).toContain(id);
    expect((await chunk(2)).statusCode).toBe(423); // finalised
    expect(
      (
        await call(app, {
          method: 'POST',
          url: '/messageexchange/X26ABC1/outbox/NOPE/2',
          as: 'X26ABC1',
          headers: { 'mex-chunk-range': '2:3' },
          payload: 'x',
        })
      ).statusCode,
    ).toBe(404);

    let text = '';
    for (const n of [1, 2, 3]) {
      const res = await call(app, {
        method: 'GET',
        url: `/messageexchange/X26ABC2/inbox/${id}${n === 1 ? '' : `/${n}`}`,
        as: 'X26ABC2',
        headers: { 'accept-encoding': 'gzip' },
      });
      expect(res.statusCode).toBe(n < 3 ? 206 : 200);
      expect(res.headers['mex-chunk-range']).toBe(`${n}:3`);
      expect(res.headers['content-encoding']).toBe('gzip');
      text += gunzipSync(res.rawPayload).toString(); // each chunk a gzip stream of its own
    }
    expect(text).toBe(parts.join(''));
    const track = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC1/outbox/tracking?messageID=${id}`,
      as: 'X26ABC1',
      v2: false,
    });
    expect(track.json()).toMatchObject({
      chunkCount: 3,
      fileSize: gz.reduce((n, b) => n + b.length, 0),
      contentEncoding: 'gzip',
    });
  });
});

describe('resuming an upload (mesh-api.yaml send_chunk; NHS mesh-sandbox OutboxHandler.send_chunk)', () => {
  it('a chunk posted again while uploading replaces the one held; the message is delivered once, complete; 423 after', async () => {
    const app = await sandbox();
    const parts = ['alpha ', 'bravo ', 'charlie ', 'delta'];
    const first = await send(app, 'X26ABC1', 'X26ABC2', parts[0] as string, { 'mex-chunk-range': '1:4' });
    const id = first.json().message_id as string;
    const chunk = (n: number, payload: string) =>
      call(app, {
        method: 'POST',
        url: `/messageexchange/X26ABC1/outbox/${id}/${n}`,
        as: 'X26ABC1',
        headers: { 'mex-chunk-range': `${n}:4` },
        payload,
      });
    const inbox = async () =>
      (await call(app, { method: 'GET', url: '/messageexchange/X26ABC2/inbox', as: 'X26ABC2' })).json()
        .messages as string[];
    expect((await chunk(2, 'garbled ')).statusCode).toBe(202);
    // The sender lost track after chunk 2 (its answer, or the sender, died) and resumes from chunk 2.
    expect((await chunk(2, parts[1] as string)).statusCode).toBe(202);
    expect((await chunk(3, parts[2] as string)).statusCode).toBe(202);
    // Incomplete: not in the inbox, tracked as uploading.
    expect(await inbox()).not.toContain(id);
    const tracking = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC1/outbox/tracking?messageID=${id}`,
      as: 'X26ABC1',
    });
    expect(tracking.json().status).toBe('uploading');
    expect((await chunk(3, parts[2] as string)).statusCode).toBe(202);
    expect((await chunk(4, parts[3] as string)).statusCode).toBe(202);
    expect((await inbox()).filter((m) => m === id)).toHaveLength(1);
    // Finalised: a chunk posted again (the last one, after a lost answer) is refused with 423, changing nothing.
    expect((await chunk(4, 'late')).statusCode).toBe(423);
    let text = '';
    for (const n of [1, 2, 3, 4]) {
      const res = await call(app, {
        method: 'GET',
        url: `/messageexchange/X26ABC2/inbox/${id}${n === 1 ? '' : `/${n}`}`,
        as: 'X26ABC2',
      });
      text += res.body;
    }
    expect(text).toBe(parts.join(''));
    const details = await app.inject({ method: 'GET', url: `/messageexchange/admin/message/${id}` });
    expect(details.json().events.filter((e: { status: string }) => e.status === 'accepted')).toHaveLength(1);
  });
});

describe('inbox paging (list_messages: max_results, continue_from, workflow_filter)', () => {
  it('pages by max_results with links.next, filters by workflow, rejects max_results < 10', async () => {
    const app = await sandbox();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      clock = new Date(NOW.getTime() + i * 1000);
      const workflow = i % 2 ? 'TEST_WORKFLOW2' : 'TEST_WORKFLOW';
      ids.push(
        (await send(app, 'X26ABC1', 'X26ABC2', `m${i}`, { 'mex-workflowid': workflow })).json().message_id,
      );
    }
    const all = ['CHUNKED_MESSAGE_GZ', ...ids];
    const seen: string[] = [];
    let url: string | undefined = '/messageexchange/X26ABC2/inbox?max_results=10';
    let pages = 0;
    while (url) {
      const res = await call(app, { method: 'GET', url, as: 'X26ABC2' });
      const body = res.json();
      expect(body.approx_inbox_count).toBe(24);
      seen.push(...body.messages);
      url = body.links.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
    const v1 = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC2/inbox?max_results=10&continue_from=${ids[8]}`,
      as: 'X26ABC2',
      v2: false,
    });
    expect(v1.json()).toEqual({ messages: ids.slice(9, 19) });
    const filtered = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC2/inbox?workflow_filter=!*2*',
      as: 'X26ABC2',
    });
    expect(filtered.json().messages).toEqual(['CHUNKED_MESSAGE_GZ', ...ids.filter((_, i) => i % 2 === 0)]);
    const begins = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC2/inbox?workflow_filter=TEST_WORKFLOW2',
      as: 'X26ABC2',
    });
    expect(begins.json().messages).toEqual(ids.filter((_, i) => i % 2 === 1));
    const small = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC2/inbox?max_results=9',
      as: 'X26ABC2',
    });
    expect(small.statusCode).toBe(400);
    const count = await call(app, {
      method: 'GET',
      url: '/messageexchange/X26ABC2/count',
      as: 'X26ABC2',
      v2: false,
    });
    expect(count.json()).toMatchObject({ count: 24, allResultsIncluded: true });
  });
});

describe('expiry and error reports (mesh-api.yaml "Message expiration", "Asynchronous error reporting")', () => {
  it('expires an uncollected message (410) and puts a REPORT with SEND 14 in the sender inbox', async () => {
    const app = await sandbox({ inboxExpiryMs: 60_000 });
    const id = (
      await send(app, 'X26ABC1', 'X26ABC2', 'late', { 'mex-localid': 'L1', 'mex-subject': 'S' })
    ).json().message_id;
    clock = new Date(NOW.getTime() + 61_000);
    const gone = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC2/inbox/${id}`,
      as: 'X26ABC2',
    });
    expect(gone.statusCode).toBe(410);
    const inbox = (
      await call(app, { method: 'GET', url: '/messageexchange/X26ABC1/inbox', as: 'X26ABC1' })
    ).json().messages as string[];
    const reportId = inbox.find((m) => m !== 'SIMPLE_MESSAGE') as string;
    const report = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC1/inbox/${reportId}`,
      as: 'X26ABC1',
    });
    expect(report.statusCode).toBe(200);
    expect(report.body).toBe('');
    expect(report.headers).toMatchObject({
      'mex-messagetype': 'REPORT',
      'mex-linkedmsgid': id,
      'mex-statuscode': '14',
      'mex-statusevent': 'SEND',
      'mex-statussuccess': 'ERROR',
      'mex-to': 'X26ABC2',
      'mex-localid': 'L1',
      'mex-subject': 'S',
      'mex-workflowid': 'TEST_WORKFLOW',
    });
    const track = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC1/outbox/tracking?messageID=${id}`,
      as: 'X26ABC1',
      v2: false,
    });
    expect(track.json()).toMatchObject({
      status: 'undeliverable',
      statusSuccess: 'ERROR',
      failureDiagnostic: expect.stringContaining('not collected'),
    });
  });
});

describe('lookup (endpointlookup, workflowsearch) and the GP practices of the PDS sandbox', () => {
  it('finds a PDS patient practice mailbox for GPFED_CONSULT_REPORT, in v1 and v2 shapes', async () => {
    const app = await sandbox();
    // Jane Smith (9000000009) is registered at Y12345 in NHS's PDS sandbox data.
    expect(SEED_NHS_NUMBERS.janeSmith).toBe('9000000009');
    const v2 = await app.inject({
      method: 'GET',
      url: '/messageexchange/endpointlookup/Y12345/GPFED_CONSULT_REPORT',
      headers: { accept: V2 },
    });
    expect(v2.json()).toEqual({
      results: [{ mailbox_id: 'Y12345HC001', mailbox_name: 'GP practice Y12345' }],
    });
    const v1 = await app.inject({
      method: 'GET',
      url: '/messageexchange/endpointlookup/Y12345/GPFED_CONSULT_REPORT',
    });
    expect(v1.json()).toMatchObject({
      results: [{ address: 'Y12345HC001', description: 'GP practice Y12345', endpoint_type: 'MESH' }],
    });
    expect(v1.json().query_id).toEqual(expect.any(String));
    const none = await app.inject({
      method: 'GET',
      url: '/messageexchange/endpointlookup/X26/GPFED_CONSULT_REPORT',
      headers: { accept: V2 },
    });
    expect(none.json()).toEqual({ results: [] });
    const search = await app.inject({
      method: 'GET',
      url: '/messageexchange/workflowsearch/TEST_WORKFLOW_ACK',
    });
    expect(search.json().results.map((r: { mailbox_id: string }) => r.mailbox_id)).toEqual([
      'X26ABC1',
      'X26ABC3',
    ]);
    // The whole path: X26ABC1 sends the consult report, the practice receives and acks on the _ACK workflow.
    const sent = await send(app, 'X26ABC1', 'Y12345HC001', '<itk/>', {
      'mex-workflowid': 'GPFED_CONSULT_REPORT',
    });
    expect(sent.statusCode).toBe(202);
    const ack = await send(app, 'Y12345HC001', 'X26ABC1', '<ack/>', {
      'mex-workflowid': 'GPFED_CONSULT_REPORT_ACK',
    });
    expect(ack.statusCode).toBe(202);
  });
});

describe('admin routes (test only, mesh-sandbox routers/admin.py)', () => {
  // NHS's sandbox serves each of these at /admin/... and /messageexchange/admin/..., except the report, which it
  // serves at /messageexchange/admin/report only.
  for (const prefix of ['/messageexchange/admin', '/admin']) {
    it(`${prefix}: resets all or one mailbox, inspects a mailbox and a message, adds an event`, async () => {
      const app = await sandbox();
      const id = (await send(app, 'X26ABC1', 'X26ABC2', 'x')).json().message_id;
      const mailbox = await app.inject({ method: 'GET', url: `${prefix}/mailbox/x26abc2` });
      expect(mailbox.json()).toMatchObject({
        mailbox_id: 'X26ABC2',
        mailbox_name: 'TESTMB2',
        billing_entity: 'Wales',
        ods_code: 'X26',
        active: true,
        inbox: ['CHUNKED_MESSAGE_GZ', id],
      });
      expect((await app.inject({ method: 'GET', url: `${prefix}/mailbox/NOBODY1` })).statusCode).toBe(404);
      const event = await app.inject({
        method: 'POST',
        url: `${prefix}/message/${id.toLowerCase()}/event`,
        headers: { 'content-type': 'application/json' },
        payload: { status: 'error', event: 'TRANSFER', code: '02', description: 'boom' },
      });
      expect(event.statusCode).toBe(200);
      expect(event.body).toBe('');
      expect((await app.inject({ method: 'GET', url: `${prefix}/message/${id}` })).json()).toMatchObject({
        message_id: id,
        status: 'error',
        status_code: '02',
        sender: 'X26ABC1',
        recipient: 'X26ABC2',
      });
      expect((await app.inject({ method: 'GET', url: `${prefix}/message/NOPE` })).statusCode).toBe(404);
      const one = await app.inject({ method: 'DELETE', url: `${prefix}/reset/X26ABC2` });
      expect(one.json()).toEqual({ message: 'mailbox X26ABC2 reset' });
      expect((await app.inject({ method: 'GET', url: `${prefix}/mailbox/X26ABC2` })).json().inbox).toEqual(
        [],
      );
      expect((await app.inject({ method: 'DELETE', url: `${prefix}/reset/NOBODY1` })).statusCode).toBe(404);
      expect((await app.inject({ method: 'DELETE', url: `${prefix}/reset` })).json()).toEqual({
        message: 'all mailboxes reset',
      });
      expect((await app.inject({ method: 'GET', url: `${prefix}/mailbox/X26ABC2` })).json().inbox).toEqual([
        'CHUNKED_MESSAGE_GZ',
      ]);
    });
  }

  it('POST /messageexchange/admin/report puts a report in an inbox; not served at /admin/report', async () => {
    const app = await sandbox();
    const id = (await send(app, 'X26ABC1', 'X26ABC2', 'x')).json().message_id;
    const body = {
      mailbox_id: 'X26ABC1',
      code: '14',
      description: 'undelivered',
      workflow_id: 'TEST_WORKFLOW',
      linked_message_id: id,
      status: 'error',
    };
    const json = { 'content-type': 'application/json' };
    const report = await app.inject({
      method: 'POST',
      url: '/messageexchange/admin/report',
      headers: json,
      payload: body,
    });
    expect(report.statusCode).toBe(200);
    const reportId = report.json().message_id;
    const got = await call(app, {
      method: 'GET',
      url: `/messageexchange/X26ABC1/inbox/${reportId}`,
      as: 'X26ABC1',
    });
    expect(got.headers).toMatchObject({
      'mex-messagetype': 'REPORT',
      'mex-statuscode': '14',
      'mex-linkedmsgid': id,
    });
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/admin/report',
      headers: json,
      payload: body,
    });
    expect(elsewhere.statusCode).toBe(404);
    const unknown = { ...body, mailbox_id: 'NOBODY1' };
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/messageexchange/admin/report',
          headers: json,
          payload: unknown,
        })
      ).statusCode,
    ).toBe(404);
  });

  it('GET /messageexchange/mailbox/{mailbox_id}: the mailbox details, as NHS sandbox answers them there too', async () => {
    const app = await sandbox();
    const res = await app.inject({ method: 'GET', url: '/messageexchange/mailbox/X26ABC3' });
    expect(res.json()).toMatchObject({ mailbox_id: 'X26ABC3', mailbox_name: 'TESTMB3', ods_code: 'X27' });
  });

  it('absent unless enabled, while the health checks NHS sandbox answers are always there', async () => {
    const app = await sandbox({ admin: false });
    for (const url of ['/messageexchange/admin/reset', '/admin/reset']) {
      expect((await app.inject({ method: 'DELETE', url })).statusCode).toBe(404);
    }
    expect((await app.inject({ method: 'GET', url: '/messageexchange/mailbox/X26ABC1' })).statusCode).toBe(
      404,
    );
    for (const url of [
      '/health',
      '/healthcheck',
      '/_ping',
      '/messageexchange/_ping',
      '/messageexchange/deepping',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.json(), url).toMatchObject({ status: 'running', outcome: 'Yes' });
    }
  });
});

describe('any workflow (opt-in, as NHS sandbox: it never checks workflow registration)', () => {
  it('delivers a send on an unregistered workflow id; by default the same send is SEND 17', async () => {
    const unregistered = { 'mex-workflowid': 'f3c1d2e4a5b6471889900aabbccddeef' };
    const strict = await sandbox();
    const refused = await send(strict, 'X26ABC2', 'X26ABC3', 'hello', unregistered);
    expect(refused.statusCode).toBe(417);
    expect(refused.json().detail[0]).toMatchObject({ event: 'SEND', code: '17' });
    await strict.close();
    const open = await sandbox({ anyWorkflow: true });
    const sent = await send(open, 'X26ABC2', 'X26ABC3', 'hello', unregistered);
    expect(sent.statusCode).toBe(202);
    const id = sent.json().message_id;
    const got = await call(open, {
      method: 'GET',
      url: `/messageexchange/X26ABC3/inbox/${id}`,
      as: 'X26ABC3',
    });
    expect(got.body).toBe('hello');
    expect(got.headers['mex-workflowid']).toBe(unregistered['mex-workflowid']);
    // Everything else is still checked: an unknown recipient is SEND 12, a missing workflow id 400.
    expect((await send(open, 'X26ABC2', 'NOBODY1', 'x', unregistered)).json().detail[0].code).toBe('12');
    const noWorkflow = await call(open, {
      method: 'POST',
      url: '/messageexchange/X26ABC2/outbox',
      as: 'X26ABC2',
      headers: { 'mex-to': 'X26ABC3' },
      payload: 'x',
    });
    expect(noWorkflow.statusCode).toBe(400);
  });
});

describe('message ids and inbox order under one clock tick (mesh-api.yaml list_messages continue_from)', () => {
  it('25 sends in the same millisecond page back complete and in send order', async () => {
    const app = await sandbox({ anyWorkflow: true });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      ids.push((await send(app, 'X26ABC1', 'X26ABC3', `m${i}`)).json().message_id);
    }
    expect(new Set(ids).size).toBe(25);
    for (const id of ids) expect(id).toMatch(/^\d{20}_[0-9A-F]{6}$/);
    const seen: string[] = [];
    let url: string | undefined = '/messageexchange/X26ABC3/inbox?max_results=10';
    while (url) {
      const page: { messages: string[]; links: { next?: string } } = (
        await call(app, { method: 'GET', url, as: 'X26ABC3' })
      ).json();
      seen.push(...page.messages);
      url = page.links.next;
    }
    expect(seen).toEqual(ids);
  });
});

describe('seed files (a JSON seed, or NHS sandbox store/data layout as mesh-client tests mount it)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-seed-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads mailboxes.jsonl and workflows.jsonl as they are: ids normalised, lookup and sends follow them', async () => {
    // The line shapes of NHS's sandbox store/data files (synthetic mailboxes).
    await writeFile(
      join(dir, 'mailboxes.jsonl'),
      [
        '{"mailbox_id":  "alice", "mailbox_name": "TESTMB1", "billing_entity": "England", "ods_code": "X26", "org_code": "X26", "password": "password"}',
        '',
        '{"mailbox_id":  "BOB", "mailbox_name": "TESTMB2", "billing_entity": "Wales", "ods_code": "X26", "org_code": "X26", "password": "secret"}',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'workflows.jsonl'),
      '{"workflow_id": " RESTRICTED_WORKFLOW ", "senders":  ["alice"], "receivers":  [" bob", ""]}\n',
    );
    const app = await sandbox({ seedFile: dir });
    const lookup = await call(app, {
      method: 'GET',
      url: '/messageexchange/endpointlookup/X26/RESTRICTED_WORKFLOW',
    });
    expect(lookup.json().results).toEqual([{ mailbox_id: 'BOB', mailbox_name: 'TESTMB2' }]);
    const sent = await send(app, 'ALICE', 'BOB', 'hi', { 'mex-workflowid': 'RESTRICTED_WORKFLOW' });
    expect(sent.statusCode).toBe(202);
    const bobToken = meshToken('BOB', { password: 'secret', at: clock });
    const inbox = await call(app, {
      method: 'GET',
      url: '/messageexchange/BOB/inbox',
      as: 'BOB',
      token: bobToken,
    });
    expect(inbox.json().messages).toEqual([sent.json().message_id]);
    // The seed replaces NHS sandbox default seed: X26ABC1 is not a mailbox here.
    const old = await call(app, { method: 'GET', url: '/messageexchange/X26ABC1/inbox', as: 'X26ABC1' });
    expect(old.statusCode).toBe(403);
  });

  it('loads a JSON seed file with its own shared key', async () => {
    const file = join(dir, 'seed.json');
    await writeFile(
      file,
      JSON.stringify({
        sharedKey: 'OtherKey',
        mailboxes: [
          { mailbox_id: 'Y99ABC1', mailbox_name: 'One', password: 'pw', ods_code: 'Y99', org_code: 'Y99' },
        ],
        workflows: [{ workflow_id: 'ONE_WAY', senders: ['Y99ABC1'], receivers: ['Y99ABC1'] }],
      }),
    );
    const app = await sandbox({ seedFile: file });
    const token = meshToken('Y99ABC1', { password: 'pw', sharedKey: 'OtherKey', at: clock });
    const inbox = await call(app, {
      method: 'GET',
      url: '/messageexchange/Y99ABC1/inbox',
      as: 'Y99ABC1',
      token,
    });
    expect(inbox.statusCode).toBe(200);
  });

  it('a broken seed is an error naming the file and line, before any request', async () => {
    await writeFile(
      join(dir, 'mailboxes.jsonl'),
      '{"mailbox_id": "A1", "mailbox_name": "A", "password": "p"}\n{oops\n',
    );
    await expect(sandbox({ seedFile: dir })).rejects.toThrow(/MESH seed .*mailboxes\.jsonl line 2: /);
    await expect(sandbox({ seedFile: join(dir, 'absent.json') })).rejects.toThrow(
      /MESH seed .*absent\.json: no such file or directory/,
    );
    await writeFile(
      join(dir, 'no-id.json'),
      JSON.stringify({ mailboxes: [{ mailbox_name: 'x' }], workflows: [] }),
    );
    await expect(sandbox({ seedFile: join(dir, 'no-id.json') })).rejects.toThrow(
      /every mailbox needs a mailbox_id/,
    );
    const empty = await mkdtemp(join(dir, 'empty-'));
    await expect(sandbox({ seedFile: empty })).rejects.toThrow(
      /no mailboxes\.jsonl, workflows\.jsonl or mailboxes\//,
    );
  });
});

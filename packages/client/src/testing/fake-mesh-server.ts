// Test support only (excluded from the build): a minimal MESH v2 server on node:http that records every request
// byte for byte and implements just enough of mesh-api.yaml for the client's unit tests. The real protocol
// implementation is the sandbox's (packages/sandbox/src/mesh); this one exists so that the client's tests can see
// the exact bytes and headers it sends, and script failures.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedMeshRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type MeshFault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'reset'
  /** Never answers. */
  | 'hang'
  /** Handles the request as usual, then cuts the connection instead of answering. */
  | 'lose-answer'
  /** Sends the headers and half of the body of the normal answer, then cuts the connection. */
  | 'cut-body';

export interface FakeMeshMessage {
  id: string;
  from: string;
  to: string;
  workflowId: string;
  /** Each chunk as it was received (still gzip'd when sent so). */
  chunks: Buffer[];
  total: number;
  contentEncoding: string | undefined;
  headers: Record<string, string>;
  acknowledged: boolean;
}

export interface FakeMeshOptions {
  sharedKey: string;
  mailboxes: Record<string, string>; // id -> password
  /** Answers the nth request (0-based) differently; consulted before the normal handling. */
  fault?: (request: RecordedMeshRequest, index: number) => MeshFault | undefined;
  pageSize?: number;
}

export interface FakeMesh {
  baseUrl: string;
  requests: RecordedMeshRequest[];
  messages: Map<string, FakeMeshMessage>;
  /** Puts a message straight into an inbox. */
  deliver(message: Omit<FakeMeshMessage, 'acknowledged'>): void;
  close(): Promise<void>;
}

const V2 = 'application/vnd.mesh.v2+json';

export async function startFakeMesh(options: FakeMeshOptions): Promise<FakeMesh> {
  const requests: RecordedMeshRequest[] = [];
  const messages = new Map<string, FakeMeshMessage>();
  const usedTokens = new Set<string>();
  let nextId = 1;

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const recorded: RecordedMeshRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body,
    };
    const index = requests.length;
    requests.push(recorded);
    const fault = options.fault?.(recorded, index);
    if (fault === 'hang') return;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'lose-answer') {
      res.writeHead = () => res;
      res.end = () => {
        req.socket.destroy();
        return res;
      };
    } else if (fault && fault !== 'cut-body') {
      json(res, fault.status, fault.body, fault.headers);
      return;
    }
    const url = new URL(recorded.url, 'http://fake');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'messageexchange') return json(res, 404, { detail: 'not found' });
    if (parts[1] === 'endpointlookup' || parts[1] === 'workflowsearch') {
      const workflow = parts[1] === 'endpointlookup' ? parts[3] : parts[2];
      return json(res, 200, {
        results: workflow === 'TEST_WORKFLOW' ? [{ mailbox_id: 'X26ABC2', mailbox_name: 'TESTMB2' }] : [],
      });
    }
    const mailbox = parts[1] ?? '';
    const authError = checkAuth(req.headers.authorization, mailbox);
    if (authError) return json(res, 403, undefined);
    const rest = parts.slice(2);
    const sendMex = (message: FakeMeshMessage, k: number) => {
      const chunk = message.chunks[k - 1] ?? Buffer.alloc(0);
      const headers: Record<string, string> = {
        'mex-messageid': message.id,
        'mex-from': message.from,
        'mex-to': message.to,
        'mex-workflowid': message.workflowId,
        'mex-chunk-range': `${k}:${message.total}`,
        'mex-messagetype': 'DATA',
        'mex-statuscode': '00',
        'mex-statusevent': 'TRANSFER',
        'mex-statussuccess': 'SUCCESS',
        'content-type': 'application/octet-stream',
        'content-length': String(chunk.length),
        ...message.headers,
      };
      if (message.contentEncoding) headers['content-encoding'] = message.contentEncoding;
      res.writeHead(k < message.total ? 206 : 200, headers);
      if (fault === 'cut-body') {
        res.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.end(chunk);
    };
    if (req.method === 'POST' && rest.length === 0) return json(res, 200, undefined);
    if (req.method === 'POST' && rest[0] === 'outbox' && rest.length === 1) {
      const to = header(req, 'mex-to');
      if (!to || !(to in options.mailboxes)) {
        return json(res, 417, { detail: [{ event: 'SEND', code: '12', msg: 'Unregistered recipient' }] });
      }
      const [, n] = (header(req, 'mex-chunk-range') ?? '1:1').split(':').map(Number);
      const id = `20251125120000000000_${String(nextId++).padStart(6, '0')}`;
      const headers: Record<string, string> = {};
      for (const name of [
        'mex-localid',
        'mex-subject',
        'mex-filename',
        'mex-content-checksum',
        'mex-content-type',
      ]) {
        const value = header(req, name);
        if (value) headers[name] = value;
      }
      messages.set(id, {
        id,
        from: mailbox,
        to,
        workflowId: header(req, 'mex-workflowid') ?? '',
        chunks: [body],
        total: n ?? 1,
        contentEncoding: header(req, 'content-encoding'),
        headers,
        acknowledged: false,
      });
      return json(res, 202, { message_id: id });
    }
    if (req.method === 'POST' && rest[0] === 'outbox' && rest.length === 3) {
      const message = messages.get(rest[1] ?? '');
      const k = Number(rest[2]);
      if (!message) return json(res, 404, undefined);
      if (message.chunks.filter(Boolean).length === message.total && message.chunks[k - 1]) {
        return json(res, 423, undefined);
      }
      message.chunks[k - 1] = body;
      return json(res, 202, { message_id: message.id });
    }
    if (req.method === 'GET' && rest[0] === 'inbox' && rest.length === 1) {
      const filter = url.searchParams.get('workflow_filter');
      const size = Number(url.searchParams.get('max_results') ?? options.pageSize ?? 500);
      const from = Number(url.searchParams.get('continue_from') ?? 0);
      const ids = [...messages.values()]
        .filter((m) => m.to === mailbox && !m.acknowledged && (!filter || m.workflowId === filter))
        .map((m) => m.id);
      const page = ids.slice(from, from + size);
      const links: Record<string, string> = { self: `/messageexchange/${mailbox}/inbox` };
      if (from + size < ids.length) {
        links.next = `/messageexchange/${mailbox}/inbox?max_results=${size}&continue_from=${from + size}`;
      }
      return json(res, 200, { messages: page, links, approx_inbox_count: ids.length });
    }
    if (req.method === 'GET' && rest[0] === 'inbox' && (rest.length === 2 || rest.length === 3)) {
      const message = messages.get(rest[1] ?? '');
      if (!message || message.to !== mailbox) return json(res, 404, undefined);
      return sendMex(message, rest.length === 3 ? Number(rest[2]) : 1);
    }
    if (req.method === 'PUT' && rest[0] === 'inbox' && rest[2] === 'status' && rest[3] === 'acknowledged') {
      const message = messages.get(rest[1] ?? '');
      if (!message) return json(res, 404, undefined);
      message.acknowledged = true;
      return json(res, 200, undefined);
    }
    if (req.method === 'GET' && rest[0] === 'outbox' && rest[1] === 'tracking') {
      const message = messages.get(url.searchParams.get('messageID') ?? '');
      if (!message) return json(res, 404, undefined);
      return json(res, 200, {
        message_id: message.id,
        recipient: message.to,
        workflow_id: message.workflowId,
        status: message.acknowledged ? 'acknowledged' : 'accepted',
      });
    }
    return json(res, 404, undefined);
  };

  function checkAuth(value: string | undefined, mailbox: string): string | undefined {
    const match = /^NHSMESH ([^:]+):([^:]+):(\d+):(\d{12}):([0-9a-f]{64})$/.exec(value ?? '');
    if (!match) return 'malformed';
    const [, id, nonce, count, timestamp, hash] = match;
    const password = options.mailboxes[id ?? ''];
    if (password === undefined || id !== mailbox) return 'mailbox';
    const expected = createHmac('sha256', options.sharedKey)
      .update(`${id}:${nonce}:${count}:${password}:${timestamp}`)
      .digest('hex');
    if (expected !== hash) return 'hash';
    const key = `${id}:${nonce}:${count}`;
    if (usedTokens.has(key)) return 'replay';
    usedTokens.add(key);
    return undefined;
  }

  const server: Server = createServer((req, res) => {
    const pieces: Buffer[] = [];
    req.on('data', (piece: Buffer) => pieces.push(piece));
    req.on('end', () => handle(req, res, Buffer.concat(pieces)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    messages,
    deliver: (message) => messages.set(message.id, { ...message, acknowledged: false }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': V2, ...headers });
  res.end(JSON.stringify(body));
}

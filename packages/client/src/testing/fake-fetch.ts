// Test support only (excluded from the build): a scripted `fetch` that records what was sent.

export interface RecordedRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: string | undefined;
}

export interface FakeReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Script = FakeReply | Error | ((request: RecordedRequest) => FakeReply | Error);

/** A fetch answering each call with the next scripted reply (the last one repeats). */
export function fakeFetch(...script: Script[]): { fetch: typeof fetch; calls: RecordedRequest[] } {
  const calls: RecordedRequest[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    init?.signal?.throwIfAborted();
    const request: RecordedRequest = {
      url: new URL(String(input)),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body:
        typeof init?.body === 'string'
          ? init.body
          : init?.body instanceof URLSearchParams
            ? init.body.toString()
            : undefined,
    };
    calls.push(request);
    const step = script[Math.min(calls.length - 1, script.length - 1)];
    if (step === undefined) throw new Error('fakeFetch: no reply scripted');
    const reply = typeof step === 'function' ? step(request) : step;
    if (reply instanceof Error) throw reply;
    const body =
      reply.body === undefined
        ? null
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    return new Response(body, { status: reply.status ?? 200, headers: reply.headers ?? {} });
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

/** A sleep that records requested durations and returns at once. */
export function recordingSleep(): {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  waits: number[];
} {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      waits.push(ms);
    },
  };
}

export function networkFailure(code = 'ECONNRESET'): Error {
  return Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A `fakeFetch` whose calls all wait until `release()`, to hold requests in flight. */
export function gatedFetch(...script: Script[]): {
  fetch: typeof fetch;
  calls: RecordedRequest[];
  release: () => void;
} {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { fetch: inner, calls } = fakeFetch(...script);
  const slowFetch: typeof fetch = async (input, init) => {
    await gate;
    return inner(input, init);
  };
  return { fetch: slowFetch, calls, release };
}

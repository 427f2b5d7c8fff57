import type { RequestContext } from '@junction/client';
import { outcomeOf, type UpstreamCalls } from '../observability/upstream-calls.js';
import type { MeshPort } from './mesh-service.js';

/**
 * A mailbox's `MeshPort` with every MESH call timed through the hub's one recorder (service `mesh`,
 * operations `send`, `inbox`, `receive`, `acknowledge`, `track`, `track-by-local-id`). An inbox
 * listing is one call from its first page to its last (or its error).
 */
export function recordedMeshPort(port: MeshPort, calls: UpstreamCalls): MeshPort {
  const recorded: MeshPort = {
    send: (request, ctx) => calls.time('mesh', 'send', () => port.send(request, ctx)),
    inbox: (options, ctx) => ({
      [Symbol.asyncIterator]: () => {
        const started = performance.now();
        const pages = port.inbox(options, ctx)[Symbol.asyncIterator]();
        let ended = false;
        const end = (error?: unknown) => {
          if (ended) return;
          ended = true;
          const ms = performance.now() - started;
          if (error === undefined) calls.record('mesh', 'inbox', ms, { reachable: true, failed: false });
          else calls.record('mesh', 'inbox', ms, outcomeOf(error));
        };
        return {
          async next() {
            try {
              const r = await pages.next();
              if (r.done) end();
              return r;
            } catch (error) {
              end(error);
              throw error;
            }
          },
          async return(value?: unknown) {
            end();
            return (await pages.return?.(value)) ?? { done: true, value: undefined };
          },
        };
      },
    }),
    receive: (messageId, ctx) => calls.time('mesh', 'receive', () => port.receive(messageId, ctx)),
    acknowledge: (messageId, ctx) =>
      calls.time('mesh', 'acknowledge', () => port.acknowledge(messageId, ctx)),
    track: (messageId, ctx) => calls.time('mesh', 'track', () => port.track(messageId, ctx)),
    trackByLocalId: (localId, ctx) =>
      calls.time('mesh', 'track-by-local-id', () => port.trackByLocalId(localId, ctx)),
  };
  if (port.close) recorded.close = () => port.close?.() ?? Promise.resolve();
  return recorded;
}

/** MESH's endpoint lookup (`endpointLookup`), timed as operation `endpoint-lookup`. */
export function recordedEndpointLookup<
  T extends { endpointLookup(odsCode: string, workflowId: string, ctx?: RequestContext): Promise<unknown> },
>(lookup: T, calls: UpstreamCalls): T {
  return new Proxy(lookup, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== 'endpointLookup') return (value as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) =>
        calls.time('mesh', 'endpoint-lookup', () =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
        );
    },
  });
}

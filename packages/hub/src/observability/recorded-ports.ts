import type { PdsPort } from '../journeys/patient-lookup.js';
import type { UpstreamCalls, UpstreamService } from './upstream-calls.js';

/*
 * The hub's NHS API ports with every call going through the one recorder (`UpstreamCalls`), wrapped
 * where the hub builds or receives them, so routes, journeys and jobs need not know about timing.
 */

/** PDS with each read, search and update timed (operations `read`, `search`, `update`). */
export function recordedPds(pds: PdsPort, calls: UpstreamCalls): PdsPort {
  return {
    getPatient: (...args) => calls.time('pds', 'read', () => pds.getPatient(...args)),
    searchPatients: (...args) => calls.time('pds', 'search', () => pds.searchPatients(...args)),
    updatePatient: (...args) => calls.time('pds', 'update', () => pds.updatePatient(...args)),
  };
}

/**
 * A relying party (NHS login, CIS2) with its calls to the provider timed: `exchangeCode` (token
 * endpoint, keys and id_token checks) and `userinfo`. `authorizationUrl` only builds a URL (after a
 * discovery fetched once) and is passed through untimed.
 */
export function recordedRelyingParty<
  T extends {
    exchangeCode(...args: never[]): Promise<unknown>;
    userinfo?(...args: never[]): Promise<unknown>;
  },
>(rp: T, service: Extract<UpstreamService, 'nhs-login' | 'cis2'>, calls: UpstreamCalls): T {
  return new Proxy(rp, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'exchangeCode' || property === 'userinfo') {
        return (...args: unknown[]) =>
          calls.time(service, property === 'exchangeCode' ? 'token' : 'userinfo', () =>
            (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
          );
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/**
 * A `fetch` for a token client (the API platform's `applicationRestrictedAuth` / `tokenExchangeAuth`)
 * that records each token request it really sends (cached tokens cost no call). A 401/403, 429 or
 * 5xx is a failure (the hub's credentials or the platform); a 400 is about the request (e.g. a
 * person's expired id_token in a token exchange), not the service.
 */
export function recordedTokenFetch(
  doFetch: typeof fetch,
  operation: 'client-credentials' | 'token-exchange',
  calls: UpstreamCalls,
): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    let response: Response;
    try {
      response = await doFetch(input, init);
    } catch (error) {
      calls.record('api-platform-auth', operation, performance.now() - started, {
        reachable: false,
        failed: true,
      });
      throw error;
    }
    const status = response.status;
    calls.record('api-platform-auth', operation, performance.now() - started, {
      reachable: ![502, 503, 504].includes(status),
      failed: status >= 401,
      status,
    });
    return response;
  };
}

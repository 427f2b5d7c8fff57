/** Per-call context passed to every NHS API call; the hub builds one per incoming request. */
export interface RequestContext {
  /** Sent as `X-Correlation-ID` (any string); a new UUID is generated when absent. */
  correlationId?: string;
  /** Sent as `NHSD-End-User-Organisation-ODS`; mandatory for multi-tenant apps (PDS spec). */
  endUserOrganisationOds?: string;
  /** Sent as `NHSD-Session-URID`: the user's role profile id (healthcare worker access). */
  sessionUrid?: string;
  /** Cancels the call, including any backoff wait between retries. */
  signal?: AbortSignal;
}

/** Where an NHS API client gets its bearer token from (see `applicationRestrictedAuth`). */
export interface AccessTokenProvider {
  /** A currently valid access token; cached by the provider. */
  getAccessToken(signal?: AbortSignal): Promise<string>;
  /**
   * Forget `token` because the API rejected it with 401, so the next `getAccessToken` fetches a new
   * one. Optional: providers without it are simply asked again.
   */
  invalidateAccessToken?(token: string): void;
}

/** Waits `ms` milliseconds, rejecting with the signal's reason if it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

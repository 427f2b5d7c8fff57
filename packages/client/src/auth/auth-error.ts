/**
 * A failure to obtain an access token. `code` is stable: the OAuth `error` the token endpoint
 * answered (`invalid_request`, `unsupported_grant_type`, `public_key error`, ...), or one of
 * Junction's own: `token_endpoint_unreachable`, `invalid_token_response`, `invalid_private_key`,
 * `subject_token_unavailable`, and for NHS login / CIS2 sign-in the `OidcErrorCode`s
 * (`id_token_nonce_mismatch`, `id_token_expired`, `state_mismatch`, ...) besides the provider's own
 * OAuth errors (`invalid_grant`, `access_denied`, ...).
 *
 * @example
 * try { await auth.getAccessToken(); } catch (e) { if (e instanceof AuthError && e.code === 'invalid_request') console.error(e.description); }
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: string;
  /** The token endpoint's `error_description`, when it gave one. */
  readonly description: string | undefined;
  /** HTTP status of the token endpoint's answer; undefined when there was none. */
  readonly status: number | undefined;

  constructor(code: string, options: { description?: string; status?: number; cause?: unknown } = {}) {
    super(options.description ? `${code}: ${options.description}` : code, { cause: options.cause });
    this.code = code;
    this.description = options.description;
    this.status = options.status;
  }
}

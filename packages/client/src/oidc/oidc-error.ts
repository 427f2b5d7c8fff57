import {
  AuthorizationResponseError,
  ClientError,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
} from 'openid-client';
import { AuthError } from '../auth/auth-error.js';

/**
 * Stable `AuthError` codes of the NHS login and CIS2 relying parties (besides the provider's own
 * OAuth errors such as `invalid_grant`, `invalid_client`, `access_denied`, `login_required`).
 */
export type OidcErrorCode =
  | 'id_token_missing'
  | 'id_token_nonce_mismatch'
  | 'id_token_audience_mismatch'
  | 'id_token_issuer_mismatch'
  | 'id_token_expired'
  | 'id_token_signature_invalid'
  | 'id_token_invalid'
  | 'state_mismatch'
  | 'userinfo_subject_mismatch'
  | 'invalid_scope'
  | 'invalid_request'
  | 'invalid_private_key'
  | 'insecure_http_forbidden'
  | 'provider_unreachable'
  | 'invalid_provider_response';

/** Turns whatever openid-client threw into an `AuthError` with a code a caller can switch on. */
export function toAuthError(error: unknown, provider: string): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof ResponseBodyError || error instanceof AuthorizationResponseError) {
    return new AuthError(error.error, {
      ...(error.error_description === undefined ? {} : { description: error.error_description }),
      ...(error instanceof ResponseBodyError ? { status: error.status } : {}),
    });
  }
  if (error instanceof WWWAuthenticateChallengeError) {
    const code = error.cause.find((challenge) => typeof challenge.parameters.error === 'string')?.parameters
      .error;
    return new AuthError(code ?? `http_${error.status}`, {
      description: `${provider} refused the access token`,
      status: error.status,
    });
  }
  if (error instanceof ClientError) return fromClientError(error, provider);
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) {
    return new AuthError('provider_unreachable', {
      description: `${provider} could not be reached`,
      cause: error,
    });
  }
  return new AuthError('invalid_provider_response', {
    description: `${provider}: ${error instanceof Error ? error.message : 'unexpected failure'}`,
    cause: summary(error),
  });
}

// openid-client's errors carry the id_token's claims (NHS number, name, birth date), the callback's
// code or the HTTP response; a cause keeps only what says what went wrong, so logging it is safe.
function summary(error: unknown): Error {
  const message = error instanceof Error ? error.message : 'unexpected failure';
  return Object.assign(new Error(message), {
    name: error instanceof Error ? error.name : 'Error',
    ...(typeof (error as { code?: unknown }).code === 'string'
      ? { code: (error as { code: string }).code }
      : {}),
  });
}

function fromClientError(error: ClientError, provider: string): AuthError {
  // openid-client wraps oauth4webapi's error; its cause says which claim or check failed.
  const inner = error.cause as { message?: unknown; cause?: { claim?: unknown } } | undefined;
  const innerMessage = typeof inner?.message === 'string' ? inner.message : error.message;
  // A missing claim is named only in the message ('JWT "nonce" (nonce) claim missing').
  const claim = inner?.cause?.claim ?? /JWT "(\w+)" \(\w[\w ]*\) claim missing/.exec(innerMessage)?.[1];
  const make = (code: OidcErrorCode, description: string) =>
    new AuthError(code, { description: `${provider}: ${description}`, cause: summary(inner ?? error) });
  // A claim that is missing (INVALID_RESPONSE) or wrong (CLAIM_COMPARISON) fails the same way.
  if (error.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || error.code === 'OAUTH_INVALID_RESPONSE') {
    if (claim === 'nonce')
      return make('id_token_nonce_mismatch', 'id_token nonce is missing or not the one sent');
    if (claim === 'aud' || claim === 'azp')
      return make('id_token_audience_mismatch', 'id_token audience is not this client');
    if (claim === 'iss') return make('id_token_issuer_mismatch', 'id_token issuer is not the provider');
  }
  switch (error.code) {
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      return make('id_token_invalid', innerMessage);
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      if (claim === 'exp') return make('id_token_expired', 'id_token has expired');
      return make('id_token_invalid', innerMessage);
    case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
      return make('userinfo_subject_mismatch', 'userinfo is about another user');
    case 'OAUTH_KEY_SELECTION_FAILED':
      return make('id_token_signature_invalid', 'no provider key matches the id_token');
    case 'OAUTH_HTTP_REQUEST_FORBIDDEN':
      return make(
        'insecure_http_forbidden',
        'plain http is refused (allowInsecureHttp is for the local sandbox only)',
      );
    case 'OAUTH_TIMEOUT':
      return make('provider_unreachable', 'timed out');
    case 'OAUTH_INVALID_RESPONSE':
      if (/signature verification failed/i.test(innerMessage)) {
        return make('id_token_signature_invalid', 'id_token signature verification failed');
      }
      if (/"alg" header/.test(innerMessage))
        return make('id_token_signature_invalid', 'id_token is not signed RS512');
      if (/"state"/.test(innerMessage)) return make('state_mismatch', 'state does not match the request');
      if (/id_token/i.test(innerMessage)) return make('id_token_missing', innerMessage);
      return make('invalid_provider_response', innerMessage);
    default:
      return make('invalid_provider_response', innerMessage);
  }
}

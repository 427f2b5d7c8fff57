import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { acceptRawBodies, formFields, mediaTypeOf } from '../http/raw-body.js';
import type { IdentityProviderHandle } from '../oidc/identity-provider.js';
import type { AccessTokenStore } from './access-token-store.js';
import { checkAssertionClaims, decodeClientAssertion } from './client-assertion.js';
import { JtiCache } from './jti-cache.js';
import type { RegisteredApp } from './registered-app.js';
import { signedByOneOf } from './signature.js';
import { TOKEN_ERRORS, type TokenError } from './token-errors.js';
import {
  CIS2_REFRESH_TOKEN_TTL_S,
  exchangeSubjectToken,
  NHS_LOGIN_REFRESH_TOKEN_TTL_S,
  newRefreshToken,
} from './token-exchange.js';

/** Options of the API platform OAuth 2.0 simulator (`/oauth2`). */
export interface OAuthPluginOptions {
  /** The registered apps, or a lookup by API key (read on every request, so apps can be added later). */
  apps: readonly RegisteredApp[] | ((apiKey: string) => RegisteredApp | undefined);
  /** Where issued access tokens are kept; give the same store to the APIs that accept them. */
  tokens: AccessTokenStore;
  /** The `aud` a client assertion must carry; default: this request's own URL (`proto://host/oauth2/token`). */
  tokenUrl?: string;
  /**
   * The sandbox identity providers whose id_tokens `/oauth2/token` exchanges (token exchange,
   * RFC 8693); none: every subject token's issuer is unknown.
   */
  identityProviders?: readonly IdentityProviderHandle[];
  /** The sandbox's public origin (e.g. `http://127.0.0.1:9000`); default: this request's. It fixes the providers' issuers. */
  publicUrl?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const FORM = 'application/x-www-form-urlencoded';
// Apigee VerifyJWT.ClientCredentials <TimeAllowance>10s</TimeAllowance>, applied to `nbf`.
const TIME_ALLOWANCE_S = 10;

/**
 * The NHS API platform's token endpoint (NHSDigital/identity-service-api): `POST /oauth2/token`
 * with an RS512-signed JWT client assertion, for application-restricted access
 * (`grant_type=client_credentials`) or user-restricted access by token exchange of an NHS login
 * or CIS2 id_token (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`), checked in the
 * platform's order with its error strings (see `token-errors.ts`). Mount with prefix `/oauth2`.
 */
export const oauthPlugin: FastifyPluginAsync<OAuthPluginOptions> = async (app, options) => {
  const now = options.now ?? (() => new Date());
  const findApp =
    typeof options.apps === 'function'
      ? options.apps
      : (apiKey: string) => (options.apps as readonly RegisteredApp[]).find((a) => a.apiKey === apiKey);
  const usedJtis = new JtiCache();

  acceptRawBodies(app);

  /**
   * The client assertion steps both flows share (DecodeJWT.FromClientAssertionFormParam to
   * VerifyJWT.ClientCredentials): the app that signed, or the platform's error.
   */
  const authenticateClient = async (
    form: URLSearchParams,
    request: FastifyRequest,
    nowMs: number,
  ): Promise<RegisteredApp | TokenError> => {
    const assertion = form.get('client_assertion');
    if (assertion === null || assertion === '') return TOKEN_ERRORS.clientAssertionMissing;
    const decoded = decodeClientAssertion(assertion);
    if (decoded === undefined) return TOKEN_ERRORS.clientAssertionMalformed;

    const claimError = checkAssertionClaims(decoded, nowMs, (sub, jti) => usedJtis.has(sub, jti, nowMs));
    if (claimError) return claimError;
    const { sub, jti, exp, aud, nbf } = decoded.payload as {
      sub: unknown;
      jti: string;
      exp: number;
    } & Record<string, unknown>;
    // PopulateCache.JTIClaim runs before the API key and signature are checked, as here.
    usedJtis.add(sub, jti, exp * 1000, nowMs);

    const client = typeof sub === 'string' ? findApp(sub) : undefined;
    if (client === undefined) return TOKEN_ERRORS.unknownClient;
    if (client.jwks.keys.length === 0) return TOKEN_ERRORS.noPublicKey;
    const candidates = client.jwks.keys.filter((k) => k.kid === decoded.header.kid);
    if (candidates.length === 0) return TOKEN_ERRORS.kidNoMatch;
    if (!(await signedByOneOf(assertion, candidates, 'RS512'))) return TOKEN_ERRORS.signature;

    const tokenUrl = options.tokenUrl ?? ownUrl(request);
    if (!(aud === tokenUrl || (Array.isArray(aud) && aud.includes(tokenUrl)))) return TOKEN_ERRORS.audInvalid;
    if (typeof nbf === 'number' && nowMs + TIME_ALLOWANCE_S * 1000 < nbf * 1000) return TOKEN_ERRORS.unknown;
    return client;
  };

  app.post('/token', async (request, reply) => {
    // Flow.PostTokenInvalidMediaType comes first. Parameters such as `charset` are allowed:
    // browsers' and Node's fetch add one to URLSearchParams bodies.
    if (mediaTypeOf(request) !== FORM) return sendError(reply, TOKEN_ERRORS.contentType);
    const form = formFields(request);
    const grantType = form.get('grant_type');
    const clientAssertionTypeOk = form.get('client_assertion_type') === CLIENT_ASSERTION_TYPE;
    const nowMs = now().getTime();

    // The platform's flows in their order: client_credentials, then any id_token subject (token
    // exchange), then a token-exchange grant with another subject type, then the grant_type faults.
    if (grantType === 'client_credentials' && form.get('subject_token_type') !== ID_TOKEN_TYPE) {
      if (!clientAssertionTypeOk) return sendError(reply, TOKEN_ERRORS.clientAssertionType);
      const client = await authenticateClient(form, request, nowMs);
      if (!isApp(client)) return sendError(reply, client);
      const { accessToken, expiresInS } = options.tokens.issue(client);
      // policies/AssignMessage.ClientCredentialsGenerateTokenResponse.xml: every value a string,
      // issued_at in epoch milliseconds (Apigee's OAuthV2 variable).
      return reply.code(200).send({
        access_token: accessToken,
        expires_in: String(expiresInS),
        token_type: 'Bearer',
        issued_at: String(nowMs),
      });
    }
    if (form.get('subject_token_type') === ID_TOKEN_TYPE) {
      // Flow.PostTokenTokenExchange, entered for any id_token subject whatever the grant_type.
      if (!clientAssertionTypeOk) return sendError(reply, TOKEN_ERRORS.clientAssertionType);
      if (grantType !== TOKEN_EXCHANGE) return sendError(reply, TOKEN_ERRORS.grantTypeInvalid);
      const client = await authenticateClient(form, request, nowMs);
      if (!isApp(client)) return sendError(reply, client);
      const result = await exchangeSubjectToken(form.get('subject_token'), {
        client,
        providers: options.identityProviders ?? [],
        origin: options.publicUrl?.replace(/\/+$/, '') ?? ownOrigin(request),
        nowMs,
      });
      if ('error' in result) return sendError(reply, result.error);
      const { accessToken, expiresInS } = options.tokens.issue(client, result.grant);
      // policies/AssignMessage.TokenExchangeGenerateTokenResponse.xml: every value a string.
      return reply.code(200).send({
        access_token: accessToken,
        expires_in: String(expiresInS),
        token_type: 'Bearer',
        issued_token_type: ACCESS_TOKEN_TYPE,
        refresh_token: newRefreshToken(),
        refresh_token_expires_in: String(
          result.provider === 'cis2' ? CIS2_REFRESH_TOKEN_TTL_S : NHS_LOGIN_REFRESH_TOKEN_TTL_S,
        ),
        refresh_count: '0',
      });
    }
    // Flow.PostTokenInvalidSubjectTokenType
    if (grantType === TOKEN_EXCHANGE) return sendError(reply, TOKEN_ERRORS.subjectTokenType);
    if (grantType === null) return sendError(reply, TOKEN_ERRORS.grantTypeMissing);
    // authorization_code and refresh_token are not simulated: answered as any unknown grant.
    return sendError(reply, TOKEN_ERRORS.grantTypeUnsupported);
  });

  // Flow.PostTokenUnsupportedHTTPMethod: 405, `Allow: POST`, empty text/plain body.
  app.route({
    method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/token',
    handler: async (_request, reply) => reply.code(405).header('allow', 'POST').type('text/plain').send(''),
  });

  // Flow.CatchAll
  app.setNotFoundHandler(async (_request, reply) => sendError(reply, TOKEN_ERRORS.notFound));
};

function sendError(reply: FastifyReply, error: TokenError): FastifyReply {
  // Every platform error body carries a `message_id` (asserted present by the e2e tests).
  return reply
    .code(error.status)
    .send({ error: error.error, error_description: error.description, message_id: randomUUID() });
}

/** This request's own origin (`proto://host`), for the identity providers' issuers. */
function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function isApp(value: RegisteredApp | TokenError): value is RegisteredApp {
  return 'apiKey' in value;
}

/** `proxy.url` in Apigee: this request's URL without its query. */
function ownUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${request.url.split('?', 1)[0]}`;
}

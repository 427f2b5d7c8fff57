import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { compactVerify, importJWK, type JWK } from 'jose';
import { acceptRawBodies, formFields, mediaTypeOf } from '../http/raw-body.js';
import type { AccessTokenStore } from './access-token-store.js';
import { checkAssertionClaims, decodeClientAssertion } from './client-assertion.js';
import { JtiCache } from './jti-cache.js';
import type { RegisteredApp } from './registered-app.js';
import { TOKEN_ERRORS, type TokenError } from './token-errors.js';

/** Options of the API platform OAuth 2.0 simulator (`/oauth2`). */
export interface OAuthPluginOptions {
  /** The registered apps, or a lookup by API key (read on every request, so apps can be added later). */
  apps: readonly RegisteredApp[] | ((apiKey: string) => RegisteredApp | undefined);
  /** Where issued access tokens are kept; give the same store to the APIs that accept them. */
  tokens: AccessTokenStore;
  /** The `aud` a client assertion must carry; default: this request's own URL (`proto://host/oauth2/token`). */
  tokenUrl?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const FORM = 'application/x-www-form-urlencoded';
// Apigee VerifyJWT.ClientCredentials <TimeAllowance>10s</TimeAllowance>, applied to `nbf`.
const TIME_ALLOWANCE_S = 10;

/**
 * The NHS API platform's token endpoint (NHSDigital/identity-service-api) for
 * application-restricted access: `POST /oauth2/token` with `grant_type=client_credentials` and
 * an RS512-signed JWT client assertion, checked in the platform's order with its error strings
 * (see `token-errors.ts`). Mount with prefix `/oauth2`.
 */
export const oauthPlugin: FastifyPluginAsync<OAuthPluginOptions> = async (app, options) => {
  const now = options.now ?? (() => new Date());
  const findApp =
    typeof options.apps === 'function'
      ? options.apps
      : (apiKey: string) => (options.apps as readonly RegisteredApp[]).find((a) => a.apiKey === apiKey);
  const usedJtis = new JtiCache();

  acceptRawBodies(app);

  app.post('/token', async (request, reply) => {
    // Flow.PostTokenInvalidMediaType comes first. Parameters such as `charset` are allowed:
    // browsers' and Node's fetch add one to URLSearchParams bodies.
    if (mediaTypeOf(request) !== FORM) return sendError(reply, TOKEN_ERRORS.contentType);
    const form = formFields(request);
    const grantType = form.get('grant_type');
    const clientAssertionTypeOk = form.get('client_assertion_type') === CLIENT_ASSERTION_TYPE;
    if (form.get('subject_token_type') === ID_TOKEN_TYPE && grantType !== TOKEN_EXCHANGE) {
      // The platform routes any id_token subject to its token-exchange flow, which checks
      // client_assertion_type and then refuses the grant_type (RaiseFault.InvalidGrantType).
      return sendError(
        reply,
        clientAssertionTypeOk ? TOKEN_ERRORS.grantTypeInvalid : TOKEN_ERRORS.clientAssertionType,
      );
    }
    if (grantType === null) return sendError(reply, TOKEN_ERRORS.grantTypeMissing);
    // Only client_credentials is simulated; the platform's other grants are answered as unsupported.
    if (grantType !== 'client_credentials') return sendError(reply, TOKEN_ERRORS.grantTypeUnsupported);
    if (!clientAssertionTypeOk) return sendError(reply, TOKEN_ERRORS.clientAssertionType);

    const assertion = form.get('client_assertion');
    if (assertion === null || assertion === '') return sendError(reply, TOKEN_ERRORS.clientAssertionMissing);
    const decoded = decodeClientAssertion(assertion);
    if (decoded === undefined) return sendError(reply, TOKEN_ERRORS.clientAssertionMalformed);

    const nowMs = now().getTime();
    const claimError = checkAssertionClaims(decoded, nowMs, (sub, jti) => usedJtis.has(sub, jti, nowMs));
    if (claimError) return sendError(reply, claimError);
    const { sub, jti, exp, aud, nbf } = decoded.payload as {
      sub: unknown;
      jti: string;
      exp: number;
    } & Record<string, unknown>;
    // PopulateCache.JTIClaim runs before the API key and signature are checked, as here.
    usedJtis.add(sub, jti, exp * 1000, nowMs);

    const client = typeof sub === 'string' ? findApp(sub) : undefined;
    if (client === undefined) return sendError(reply, TOKEN_ERRORS.unknownClient);
    if (client.jwks.keys.length === 0) return sendError(reply, TOKEN_ERRORS.noPublicKey);
    const candidates = client.jwks.keys.filter((k) => k.kid === decoded.header.kid);
    if (candidates.length === 0) return sendError(reply, TOKEN_ERRORS.kidNoMatch);
    if (!(await signedByOneOf(assertion, candidates))) return sendError(reply, TOKEN_ERRORS.signature);

    const tokenUrl = options.tokenUrl ?? ownUrl(request);
    if (!(aud === tokenUrl || (Array.isArray(aud) && aud.includes(tokenUrl)))) {
      return sendError(reply, TOKEN_ERRORS.audInvalid);
    }
    if (typeof nbf === 'number' && nowMs + TIME_ALLOWANCE_S * 1000 < nbf * 1000) {
      return sendError(reply, TOKEN_ERRORS.unknown);
    }

    const { accessToken, expiresInS } = options.tokens.issue(client);
    // policies/AssignMessage.ClientCredentialsGenerateTokenResponse.xml: every value a string,
    // issued_at in epoch milliseconds (Apigee's OAuthV2 variable).
    return reply.code(200).send({
      access_token: accessToken,
      expires_in: String(expiresInS),
      token_type: 'Bearer',
      issued_at: String(nowMs),
    });
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

/** `proxy.url` in Apigee: this request's URL without its query. */
function ownUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${request.url.split('?', 1)[0]}`;
}

async function signedByOneOf(jws: string, keys: readonly JWK[]): Promise<boolean> {
  for (const jwk of keys) {
    try {
      const key = await importJWK(publicPart(jwk), 'RS512');
      await compactVerify(jws, key, { algorithms: ['RS512'] });
      return true;
    } catch {
      // Wrong key type, short modulus, bad signature: all "signature verification failed".
    }
  }
  return false;
}

function publicPart(jwk: JWK): JWK {
  const { kty, n, e, crv, x, y } = jwk;
  return Object.fromEntries(
    Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined),
  ) as JWK;
}

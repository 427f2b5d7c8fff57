import { randomBytes, randomUUID } from 'node:crypto';
import { formatNhsNumber } from '@junction/core';
import type { FastifyInstance } from 'fastify';
import { importJWK, SignJWT } from 'jose';
import { errors, type InteractionDetails, type KoaContextLike } from 'oidc-provider';
import {
  button,
  errorSummary,
  form,
  hiddenInput,
  insetText,
  type PageFrame,
  page,
  type RadioItem,
  radios,
  sendExpired,
  sendPage,
} from '../oidc/html.js';
import type { IdentityProviderHandle, OidcClientRegistration } from '../oidc/identity-provider.js';
import { memoryAdapterClass } from '../oidc/memory-adapter.js';
import {
  finishInteraction,
  grantIdOf,
  interactionOf,
  interactionPath,
  mountOidc,
  signInResult,
} from '../oidc/oidc-mount.js';
import { createOidcProvider } from '../oidc/provider-config.js';
import { generateSigningKey, type SigningKey } from '../oidc/signing-key.js';
import {
  NHS_LOGIN_TEST_USERS,
  type NhsLoginTestUser,
  type RepresentedPerson,
  representedPerson,
} from './test-users.js';
import { parseVtr, vectorOfTrust } from './vectors-of-trust.js';

/** NHS login's base path in the sandbox. */
export const NHS_LOGIN_BASE_PATH = '/nhs-login';

// NHS login Interface Specification – Federation: authorisation code 10 min, ID token 60 min, access
// token 5 min, refresh token 30 days.
const CODE_TTL_S = 600;
const ID_TOKEN_TTL_S = 3600;
const ACCESS_TOKEN_TTL_S = 300;
const REFRESH_TOKEN_TTL_S = 30 * 24 * 3600;

// nhsconnect/nhslogin src/scopes-and-claims.md
const CLAIMS: Record<string, string[]> = {
  // `act` only ever appears in id tokens, when a proxy signs in for someone else (see actorClaim).
  openid: ['sub', 'jti', 'vot', 'vtm', 'id_status', 'token_use', 'act'],
  profile: ['nhs_number', 'family_name', 'birthdate', 'identity_proofing_level'],
  basic_demographics: ['family_name', 'birthdate', 'identity_proofing_level'],
  profile_extended: ['given_name'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified', 'phone_number_pds_matched'],
  gp_registration_details: ['gp_ods_code'],
  gp_integration_credentials: ['gp_linkage_key', 'gp_ods_code', 'gp_user_id'],
  client_metadata: ['client_user_metadata'],
};
const SCOPES = [...Object.keys(CLAIMS), 'landline'];

const LEVEL_NAMES = {
  P9: 'P9 (high): photo ID and physical comparison',
  P5: 'P5 (medium): basic details matched to PDS',
  P0: 'P0 (low): email and mobile verified',
} as const;

const SERVICE = 'NHS login (sandbox)';
const SANDBOX_NOTE =
  'This is the Junction sandbox, not NHS login. Every account here is a synthetic test user: there is no password or security code to enter.';
const NO_USER = 'Select the test user to sign in as';
const UNKNOWN_USER = 'Select one of the test users listed';
const NO_PERSON = 'Select whose record you are using';
const UNKNOWN_PERSON = 'Select yourself or one of the people you act for';

export interface NhsLoginOptions {
  clients: readonly OidcClientRegistration[];
  publicUrl?: string;
  users?: readonly NhsLoginTestUser[];
}

/**
 * Mounts the NHS login OpenID provider at `/nhs-login` (issuer `<origin>/nhs-login`):
 * authorisation code with PKCE, `private_key_jwt`, RS512 tokens, vectors of trust (`vtr` →
 * `vot`/`vtm`) and NHS login's scopes and claims, with a sign-in page listing test accounts.
 *
 * @example
 * const nhsLogin = await mountNhsLogin(app, { clients: [{ clientId: 'my-app', redirectUris: ['https://app/cb'], jwks }] });
 * nhsLogin.issuerFor('http://localhost:9000'); // 'http://localhost:9000/nhs-login'
 */
export async function mountNhsLogin(
  app: FastifyInstance,
  options: NhsLoginOptions,
): Promise<IdentityProviderHandle> {
  const users = options.users ?? NHS_LOGIN_TEST_USERS;
  const signingKey = await generateSigningKey();
  const adapter = memoryAdapterClass();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  // What each sign-in earned (vot), by the grant it created; read back when tokens are issued.
  const votByGrant = new Map<string, string>();
  // A proxy's sign-in as someone else ("Whose record are you using?"): who signed in and the person
  // they chose, by grant. Its account is the represented person's, since oidc-provider makes an id
  // token's and userinfo's `sub` the account id.
  const proxyByGrant = new Map<string, { actor: NhsLoginTestUser; person: RepresentedPerson }>();

  const findAccount = (ctx: KoaContextLike, sub: string, token?: { grantId?: string }) => {
    const grantId = grantIdOf(ctx, token);
    const proxy = grantId === undefined ? undefined : proxyByGrant.get(grantId);
    const user = proxy
      ? proxy.person.sub === sub
        ? proxy.actor
        : undefined
      : users.find((u) => u.sub === sub);
    if (!user) return undefined;
    const issuer = ctx.oidc.provider.issuer;
    const vot = grantId === undefined ? undefined : votByGrant.get(grantId);
    return {
      accountId: sub,
      claims: async (use: string) => {
        const own = { ...userClaims(user), vot, vtm: trustmarkUrl(issuer) };
        if (!proxy) {
          return { ...own, ...(use === 'id_token' && { jti: randomUUID(), token_use: 'id' }) };
        }
        const about = { ...representedClaims(user, proxy.person), vot, vtm: trustmarkUrl(issuer) };
        if (use !== 'id_token') return about;
        const audience = ctx.oidc.client?.clientId ?? '';
        return {
          ...about,
          jti: randomUUID(),
          token_use: 'id',
          act: { sub: await actorToken(signingKey, issuer, audience, own) },
        };
      },
    };
  };

  const mount = await mountOidc(app, {
    prefix: NHS_LOGIN_BASE_PATH,
    ...(options.publicUrl !== undefined && { publicUrl: options.publicUrl }),
    service: SERVICE,
    makeProvider: (issuer, frame) =>
      createOidcProvider({
        issuer,
        frame,
        signingKey,
        adapter,
        cookieKeys,
        clients: options.clients,
        routes: { authorization: '/authorize', token: '/token', userinfo: '/userinfo', jwks: '/jwks' },
        claims: CLAIMS,
        scopes: SCOPES,
        ttlS: {
          authorizationCode: CODE_TTL_S,
          idToken: ID_TOKEN_TTL_S,
          accessToken: ACCESS_TOKEN_TTL_S,
          refreshToken: REFRESH_TOKEN_TTL_S,
        },
        findAccount,
        extraParams: { vtr: checkAuthorizationRequest },
        discovery: { vtr_supported: true },
      }),
    interactions: (scope, mount) => {
      scope.get('/interaction/:uid', async (request, reply) => {
        const provider = mount.providerFor(request);
        const frame = mount.frameFor(request);
        const details = await interactionOf(provider, request, reply);
        if (!details) return sendExpired(reply, frame);
        return sendPage(reply, signInPage(frame, interactionPath(frame, details), details, users));
      });
      scope.post('/interaction/:uid', async (request, reply) => {
        const provider = mount.providerFor(request);
        const frame = mount.frameFor(request);
        const details = await interactionOf(provider, request, reply);
        if (!details) return sendExpired(reply, frame);
        const action = interactionPath(frame, details);
        const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
        const chosenUser = form.get('user');
        const user = users.find((u) => u.sub === chosenUser);
        if (!user) {
          const error = chosenUser ? UNKNOWN_USER : NO_USER;
          return sendPage(reply, signInPage(frame, action, details, users, error), 400);
        }
        const vtr = parseVtr(details.params.vtr);
        const vot = Array.isArray(vtr)
          ? vectorOfTrust(user.identityProofingLevel, user.credentials, vtr)
          : undefined;
        if (vot === undefined) {
          // Real NHS login would take the user through an uplift journey; the sandbox has none.
          return finishInteraction(provider, request, reply, {
            error: 'access_denied',
            error_description: 'The user does not meet the requested vectors of trust (vtr)',
          });
        }
        let actingFor: RepresentedPerson | undefined;
        if (user.proxyFor !== undefined && user.proxyFor.length > 0) {
          const chosen = form.get('for');
          const valid = chosen === 'self' || user.proxyFor.some((p) => p.nhsNumber === chosen);
          if (!valid) {
            // First time here (from the sign-in page) the question is asked; answered wrongly, it is asked again.
            const answered = form.get('step') === 'for' || chosen !== null;
            if (!answered) return sendPage(reply, whoseRecordPage(frame, action, user));
            const error = chosen ? UNKNOWN_PERSON : NO_PERSON;
            return sendPage(reply, whoseRecordPage(frame, action, user, error), 400);
          }
          if (chosen !== 'self' && chosen !== null) actingFor = representedPerson(chosen);
        }
        const { result, grantId } = await signInResult(provider, details, actingFor?.sub ?? user.sub);
        votByGrant.set(grantId, vot);
        if (actingFor) proxyByGrant.set(grantId, { actor: user, person: actingFor });
        return finishInteraction(provider, request, reply, result);
      });
      // The trust mark the `vtm` claim points at (vectors-of-trust.md "Trust mark": self-hosted).
      scope.get('/trustmark/:host', async (request) => ({
        idp: mount.providerFor(request).issuer,
        trustmark_provider: mount.providerFor(request).issuer,
        vot: ['P0.Cp', 'P5.Cp.Cd', 'P5.Cp.Ck', 'P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm'],
      }));
    },
  });

  return {
    kind: 'nhs-login',
    issuerFor: mount.issuerFor,
    publicJwks: () => ({ keys: [signingKey.publicJwk] }),
  };
}

/** NHS login's trust mark URL for an issuer, e.g. `https://auth.sandpit.signin.nhs.uk/trustmark/auth.sandpit.signin.nhs.uk`. */
export function trustmarkUrl(issuer: string): string {
  return `${issuer}/trustmark/${new URL(issuer).host}`;
}

/** Checks NHS login adds to an authorisation request: `vtr` syntax, `nonce` required, exclusive scopes. */
function checkAuthorizationRequest(ctx: KoaContextLike, value: unknown): void {
  const vtr = parseVtr(value);
  if (!Array.isArray(vtr)) throw new errors.InvalidRequest(vtr.error);
  const params = ctx.oidc.params;
  if (typeof params.nonce !== 'string' || params.nonce === '') {
    throw new errors.InvalidRequest("missing required parameter 'nonce'");
  }
  const scopes = String(params.scope ?? '').split(' ');
  if (scopes.includes('profile') && scopes.includes('basic_demographics')) {
    throw new errors.InvalidScope(
      'profile and basic_demographics cannot be requested together',
      'basic_demographics',
    );
  }
}

/** Every claim the account has; oidc-provider releases those the granted scopes name. */
function userClaims(user: NhsLoginTestUser): Record<string, unknown> {
  const traced = user.identityProofingLevel !== 'P0';
  const p9 = user.identityProofingLevel === 'P9';
  return {
    sub: user.sub,
    id_status: 'verified',
    identity_proofing_level: user.identityProofingLevel,
    email: user.email,
    email_verified: true,
    phone_number: user.phoneNumber,
    phone_number_verified: true,
    phone_number_pds_matched: false,
    ...(traced && {
      nhs_number: user.nhsNumber,
      family_name: user.familyName,
      given_name: user.givenName,
      birthdate: user.birthdate,
      gp_ods_code: user.gpOdsCode,
    }),
    ...(p9 &&
      user.gpIntegration && {
        gp_linkage_key: user.gpIntegration.linkageKey,
        gp_user_id: user.gpIntegration.accountId,
      }),
  };
}

/**
 * The claims of an id token about the person a proxy acts for: that person's subject, NHS number
 * and demographics; the signed-in account's proofing level (what the sign-in proved) and contact
 * details (the account's own email and mobile). No GP linkage credentials: those are the
 * represented person's own IM1 account, which the sandbox does not model.
 */
function representedClaims(actor: NhsLoginTestUser, person: RepresentedPerson): Record<string, unknown> {
  return {
    sub: person.sub,
    id_status: 'verified',
    identity_proofing_level: actor.identityProofingLevel,
    email: actor.email,
    email_verified: true,
    phone_number: actor.phoneNumber,
    phone_number_verified: true,
    phone_number_pds_matched: false,
    nhs_number: person.nhsNumber,
    family_name: person.familyName,
    given_name: person.givenName,
    birthdate: person.birthdate,
    gp_ods_code: person.gpOdsCode,
  };
}

/**
 * The `act.sub` of a proxy sign-in: the actor's own id token, signed like any other (RS512, the
 * provider's key), carrying what NHSDigital/identity-service-api
 * `proxies/live/apiproxy/resources/jsc/validate-actor-token-claims.js` checks (kid, typ, alg, exp,
 * iss, aud) and the actor's `nhs_number`, which the platform's token exchange records as the
 * signed-in person (the subject token's `nhs_number` becoming the patient acted for).
 *
 * NHS login's own proxy mechanism (linked profiles) is not in its published contracts
 * (nhsconnect/nhslogin). This models the API platform's published `act.sub` contract instead: the
 * id token is about the represented person and nests the actor's id token.
 */
async function actorToken(
  signingKey: SigningKey,
  issuer: string,
  audience: string,
  actor: Record<string, unknown>,
): Promise<string> {
  const nowS = Math.floor(Date.now() / 1000);
  const claims = Object.fromEntries(
    Object.entries({
      sub: actor.sub,
      nhs_number: actor.nhs_number,
      identity_proofing_level: actor.identity_proofing_level,
      vot: actor.vot,
      vtm: actor.vtm,
      family_name: actor.family_name,
      given_name: actor.given_name,
      birthdate: actor.birthdate,
      id_status: actor.id_status,
      token_use: 'id',
    }).filter(([, v]) => v !== undefined),
  );
  const key = await importJWK(signingKey.privateJwk, 'RS512');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS512', kid: String(signingKey.privateJwk.kid), typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + ID_TOKEN_TTL_S)
    .setJti(randomUUID())
    .sign(key);
}

/** "Whose record are you using?": a proxy picks themselves or one of the people they act for. */
function whoseRecordPage(frame: PageFrame, action: string, user: NhsLoginTestUser, error?: string): string {
  const items: RadioItem[] = [
    {
      value: 'self',
      text: 'Myself',
      hint: [
        `${user.label.replace(/ \(.*\)$/, '')}${user.nhsNumber ? `, NHS number ${formatNhsNumber(user.nhsNumber)}` : ''}`,
      ],
    },
    ...(user.proxyFor ?? []).map((p) => {
      const person = representedPerson(p.nhsNumber);
      return {
        value: p.nhsNumber,
        text: person.label,
        hint: [`NHS number ${formatNhsNumber(p.nhsNumber)}, ${p.relationship.toLowerCase()} access`],
      };
    }),
  ];
  const title = 'Whose record are you using?';
  return page(
    frame,
    title,
    `${errorSummary(error ? [{ href: 'for', text: error }] : [])}
${form(
  action,
  `${hiddenInput('user', user.sub)}
${hiddenInput('step', 'for')}
${radios({
  name: 'for',
  idPrefix: 'for',
  legend: title,
  hint: 'You can use your own record or the record of someone you act for.',
  ...(error !== undefined && { error }),
  items,
})}
${button('Continue')}`,
)}
${insetText(SANDBOX_NOTE)}`,
    error !== undefined,
  );
}

/** The sign-in page: every test account, with its NHS number and proofing level. */
function signInPage(
  frame: PageFrame,
  action: string,
  details: InteractionDetails,
  users: readonly NhsLoginTestUser[],
  error?: string,
): string {
  const vtr = parseVtr(details.params.vtr);
  const items: RadioItem[] = users.map((u) => {
    const meets =
      Array.isArray(vtr) && vectorOfTrust(u.identityProofingLevel, u.credentials, vtr) !== undefined;
    return {
      value: u.sub,
      text: u.label,
      hint: [
        u.nhsNumber ? `NHS number ${formatNhsNumber(u.nhsNumber)}` : 'No NHS number (not matched to PDS)',
        `Identity proofing level ${LEVEL_NAMES[u.identityProofingLevel]}`,
        ...(meets ? [] : ['Below the level the service asked for: signing in ends with access_denied']),
      ],
    };
  });
  const asked = Array.isArray(vtr) ? vtr.join(', ') : '';
  return page(
    frame,
    'Choose a test user',
    `${errorSummary(error ? [{ href: 'user', text: error }] : [])}
${form(
  action,
  `${radios({
    name: 'user',
    idPrefix: 'user',
    legend: 'Choose a test user',
    hint: `The service asked for these vectors of trust: ${asked}.`,
    ...(error !== undefined && { error }),
    items,
  })}
${button('Continue')}`,
)}
${insetText(SANDBOX_NOTE)}`,
    error !== undefined,
  );
}

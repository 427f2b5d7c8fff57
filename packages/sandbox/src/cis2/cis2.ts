import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { InteractionDetails, KoaContextLike } from 'oidc-provider';
import { escapeHtml, page } from '../oidc/html.js';
import type { IdentityProviderHandle, OidcClientRegistration } from '../oidc/identity-provider.js';
import { memoryAdapterClass } from '../oidc/memory-adapter.js';
import { finishInteraction, grantIdOf, interactionOf, mountOidc, signInResult } from '../oidc/oidc-mount.js';
import { createOidcProvider } from '../oidc/provider-config.js';
import { generateSigningKey } from '../oidc/signing-key.js';
import { CIS2_TEST_USERS, type Cis2Role, type Cis2TestUser } from './test-users.js';

/** CIS2 Authentication's realm path (e.g. https://am.nhsdev.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/oidc). */
export const CIS2_BASE_PATH = '/openam/oauth2/realms/root/realms/oidc';

// CONTRACTS §2e (fixture `cis2_subject_token_claims`): smartcard authentication at AAL3.
const ACR = 'AAL3_ANY';
const AMR = ['N3_SMARTCARD'];
const REALM = '/NHSIdentity/Healthcare';
const CODE_TTL_S = 600;
const ID_TOKEN_TTL_S = 3600;
const ACCESS_TOKEN_TTL_S = 3600;
const REFRESH_TOKEN_TTL_S = 12 * 3600;

// Scopes → claims (CIS2 "scopes and claims"); the id token carries the `openid` and `selectedrole`
// ones, userinfo the rest (findAccount below).
const CLAIMS: Record<string, string[]> = {
  openid: [
    'sub',
    'acr',
    'amr',
    'id_assurance_level',
    'authentication_assurance_level',
    'realm',
    'azp',
    'auditTrackingId',
  ],
  profile: ['name', 'given_name', 'family_name', 'uid'],
  email: ['email'],
  nhsperson: ['nhsid_useruid', 'name', 'title', 'given_name', 'family_name', 'idassurancelevel'],
  associatedorgs: ['nhsid_user_orgs'],
  nationalrbacaccess: ['nhsid_nrbac_roles'],
  professionalmemberships: ['gmc_id', 'nmc_id', 'gphc_id'],
  organisationalmemberships: ['nhsid_org_memberships'],
  selectedrole: ['selected_roleid'],
};
const ID_TOKEN_CLAIMS = new Set([...(CLAIMS.openid ?? []), 'selected_roleid']);

export interface Cis2Options {
  clients: readonly OidcClientRegistration[];
  publicUrl?: string;
  users?: readonly Cis2TestUser[];
}

/**
 * Mounts the CIS2 Authentication OpenID provider at its real realm path, with the real endpoint
 * names (`/authorize`, `/access_token`, `/userinfo`, `/connect/jwk_uri`): smartcard sign-in
 * (`acr` AAL3_ANY, `amr` N3_SMARTCARD), role selection for the `selectedrole` scope
 * (`selected_roleid`), national RBAC roles in userinfo.
 *
 * @example
 * const cis2 = await mountCis2(app, { clients: [{ clientId: '999999999999.apps.national', redirectUris, jwks }] });
 */
export async function mountCis2(app: FastifyInstance, options: Cis2Options): Promise<IdentityProviderHandle> {
  const users = options.users ?? CIS2_TEST_USERS;
  const signingKey = await generateSigningKey();
  const adapter = memoryAdapterClass();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const roleByGrant = new Map<string, string>();

  const findAccount = (ctx: KoaContextLike, sub: string, token?: { grantId?: string }) => {
    const user = users.find((u) => u.sub === sub);
    if (!user) return undefined;
    const grantId = grantIdOf(ctx, token);
    const selected = grantId === undefined ? undefined : roleByGrant.get(grantId);
    const clientId = ctx.oidc.client?.clientId;
    return {
      accountId: sub,
      claims: (use: string) => {
        const all: Record<string, unknown> = {
          ...userClaims(user),
          ...(selected !== undefined && { selected_roleid: selected }),
          ...(use === 'id_token' && { auditTrackingId: `${randomUUID()}-1`, azp: clientId }),
        };
        if (use !== 'id_token') return all;
        return Object.fromEntries(Object.entries(all).filter(([k]) => ID_TOKEN_CLAIMS.has(k)));
      },
    };
  };

  const mount = await mountOidc(app, {
    prefix: CIS2_BASE_PATH,
    ...(options.publicUrl !== undefined && { publicUrl: options.publicUrl }),
    makeProvider: (issuer) =>
      createOidcProvider({
        issuer,
        signingKey,
        adapter,
        cookieKeys,
        clients: options.clients,
        routes: {
          authorization: '/authorize',
          token: '/access_token',
          userinfo: '/userinfo',
          jwks: '/connect/jwk_uri',
        },
        claims: CLAIMS,
        scopes: Object.keys(CLAIMS),
        acrValues: [ACR],
        ttlS: {
          authorizationCode: CODE_TTL_S,
          idToken: ID_TOKEN_TTL_S,
          accessToken: ACCESS_TOKEN_TTL_S,
          refreshToken: REFRESH_TOKEN_TTL_S,
        },
        findAccount,
      }),
    interactions: (scope, mount) => {
      scope.get('/interaction/:uid', async (request, reply) => {
        const provider = mount.providerFor(request);
        const details = await interactionOf(provider, request, reply);
        if (!details) return expired(reply);
        return html(reply, userPage(provider.issuer, details, users));
      });
      scope.post('/interaction/:uid', async (request, reply) => {
        const provider = mount.providerFor(request);
        const details = await interactionOf(provider, request, reply);
        if (!details) return expired(reply);
        const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
        const user = users.find((u) => u.sub === form.get('user'));
        if (!user) return html(reply.code(400), userPage(provider.issuer, details, users, true));
        const wantsRole = (details.params.scope ?? '').split(' ').includes('selectedrole');
        let role: Cis2Role | undefined;
        if (wantsRole) {
          const chosen = form.get('role');
          role = user.roles.length === 1 ? user.roles[0] : user.roles.find((r) => r.personRoleId === chosen);
          if (!role) {
            const invalid = chosen !== null;
            return html(reply.code(invalid ? 400 : 200), rolePage(provider.issuer, details, user, invalid));
          }
        }
        const { result, grantId } = await signInResult(provider, details, user.sub, { acr: ACR, amr: AMR });
        if (role) roleByGrant.set(grantId, role.personRoleId);
        return finishInteraction(provider, request, reply, result);
      });
    },
  });

  return { kind: 'cis2', issuerFor: mount.issuerFor, publicJwks: () => ({ keys: [signingKey.publicJwk] }) };
}

/** Every claim of the user (shapes from identity-service-api e2e/tests/utils/response_bank.py). */
function userClaims(user: Cis2TestUser): Record<string, unknown> {
  const orgs = [...new Map(user.roles.map((r) => [r.orgCode, r])).values()];
  return {
    sub: user.sub,
    uid: user.sub,
    nhsid_useruid: user.sub,
    id_assurance_level: 3,
    authentication_assurance_level: 3,
    idassurancelevel: '3',
    realm: REALM,
    name: `${user.familyName} ${user.givenName} ${user.title}`,
    title: user.title,
    given_name: user.givenName,
    family_name: user.familyName,
    email: user.email,
    ...user.professionalIds,
    nhsid_nrbac_roles: user.roles.map((r) => ({
      person_orgid: r.personOrgId,
      person_roleid: r.personRoleId,
      org_code: r.orgCode,
      role_name: r.roleName,
      role_code: r.roleCode,
      activities: r.activities,
      activity_codes: r.activityCodes,
    })),
    nhsid_user_orgs: orgs.map((r) => ({ org_name: r.orgName, org_code: r.orgCode })),
    nhsid_org_memberships: orgs.map((r) => ({
      person_orgid: r.personOrgId,
      org_name: r.orgName,
      org_code: r.orgCode,
    })),
  };
}

function actionOf(issuer: string, details: InteractionDetails): string {
  return `${new URL(issuer).pathname}/interaction/${encodeURIComponent(details.uid)}`;
}

function userPage(
  issuer: string,
  details: InteractionDetails,
  users: readonly Cis2TestUser[],
  invalid = false,
) {
  const buttons = users
    .map((u) => {
      const roles = u.roles.map((r) => `${roleLabel(r)} at ${r.orgName} (${r.orgCode})`).join('; ');
      return `<p><button type="submit" name="user" value="${escapeHtml(u.sub)}">Insert smartcard of ${escapeHtml(
        `${u.title} ${u.givenName} ${u.familyName}`,
      )}</button><br><span>${escapeHtml(roles)}</span></p>`;
    })
    .join('\n');
  return page(
    'CIS2 smartcard sign-in (sandbox)',
    `<h1>CIS2 smartcard sign-in (sandbox)</h1>
${invalid ? '<p role="alert">Choose one of the test users below.</p>' : ''}
<form method="post" action="${escapeHtml(actionOf(issuer, details))}">
<fieldset><legend>Choose a synthetic smartcard user</legend>
${buttons}
</fieldset>
</form>`,
  );
}

function rolePage(issuer: string, details: InteractionDetails, user: Cis2TestUser, invalid: boolean) {
  const options = user.roles
    .map((r, i) => {
      const id = `role-${i}`;
      return `<p><input type="radio" id="${id}" name="role" value="${escapeHtml(r.personRoleId)}"${i === 0 ? ' required' : ''}>
<label for="${id}">${escapeHtml(`${roleLabel(r)} at ${r.orgName} (${r.orgCode})`)}</label></p>`;
    })
    .join('\n');
  return page(
    'Select your role',
    `<h1>Select your role</h1>
${invalid ? '<p role="alert">Select one of your roles.</p>' : ''}
<form method="post" action="${escapeHtml(actionOf(issuer, details))}">
<input type="hidden" name="user" value="${escapeHtml(user.sub)}">
<fieldset><legend>${escapeHtml(`${user.title} ${user.givenName} ${user.familyName}`)}: which role are you using?</legend>
${options}
</fieldset>
<p><button type="submit">Continue</button></p>
</form>`,
  );
}

/** The role part of a national RBAC name: `"Clinical":"Clinical Provision":"Nurse Access Role"` → `Nurse Access Role`. */
function roleLabel(role: Cis2Role): string {
  return role.roleName.split(':').pop()?.replace(/"/g, '') ?? role.roleCode;
}

function html(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(body);
}

function expired(reply: FastifyReply): FastifyReply {
  return html(
    reply.code(400),
    page('Sign-in expired', '<h1>Sign-in expired</h1><p>Go back to the service and sign in again.</p>'),
  );
}

import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { KoaContextLike } from 'oidc-provider';
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
const SERVICE = 'NHS Care Identity Service 2 (sandbox)';
const SANDBOX_NOTE =
  'This is the Junction sandbox, not NHS CIS2 Authentication. Every smartcard here belongs to a synthetic test user: no card reader or passcode is needed.';
const NO_USER = 'Select the smartcard to sign in with';
const UNKNOWN_USER = 'Select one of the smartcards listed';
const NO_ROLE = 'Select the role you are using';
const UNKNOWN_ROLE = 'Select one of your roles';
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
    service: SERVICE,
    makeProvider: (issuer, frame) =>
      createOidcProvider({
        issuer,
        frame,
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
        const frame = mount.frameFor(request);
        const details = await interactionOf(provider, request, reply);
        if (!details) return sendExpired(reply, frame);
        return sendPage(reply, userPage(frame, interactionPath(frame, details), users));
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
          return sendPage(reply, userPage(frame, action, users, error), 400);
        }
        const wantsRole = (details.params.scope ?? '').split(' ').includes('selectedrole');
        let role: Cis2Role | undefined;
        if (wantsRole) {
          // CIS2 selects a user's only role without asking (see rolePage).
          const chosen = form.get('role');
          role = user.roles.length === 1 ? user.roles[0] : user.roles.find((r) => r.personRoleId === chosen);
          if (!role) {
            // First time here (from the smartcard page) the question is asked; answered wrongly, it is asked again.
            const answered = form.get('step') === 'role' || chosen !== null;
            if (!answered) return sendPage(reply, rolePage(frame, action, user));
            const error = chosen ? UNKNOWN_ROLE : NO_ROLE;
            return sendPage(reply, rolePage(frame, action, user, error), 400);
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

/** The smartcard page: every test user, with their user id and each role they hold where. */
function userPage(frame: PageFrame, action: string, users: readonly Cis2TestUser[], error?: string): string {
  const items: RadioItem[] = users.map((u) => ({
    value: u.sub,
    text: fullName(u),
    hint: [`User ID ${u.sub}`, ...u.roles.map((r) => `${roleTitle(r)} at ${r.orgName} (${r.orgCode})`)],
  }));
  return page(
    frame,
    'Choose a smartcard',
    `${errorSummary(error ? [{ href: 'user', text: error }] : [])}
${form(
  action,
  `${radios({
    name: 'user',
    idPrefix: 'user',
    legend: 'Choose a smartcard',
    hint: 'Signing in with a smartcard is at authentication assurance level 3 (AAL3).',
    ...(error !== undefined && { error }),
    items,
  })}
${button('Continue')}`,
)}
${insetText(SANDBOX_NOTE)}`,
    error !== undefined,
  );
}

/**
 * Role selection, as CIS2 Authentication asks a user with more than one role when the client
 * asks for the `selectedrole` scope (NHS England, CIS2 Authentication "Role selection":
 * https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/integrate/design-and-build/role-selection):
 * each role profile with its national RBAC role and code and its organisation's name and ODS code.
 */
function rolePage(frame: PageFrame, action: string, user: Cis2TestUser, error?: string): string {
  const items: RadioItem[] = user.roles.map((r) => ({
    value: r.personRoleId,
    text: roleTitle(r),
    hint: [
      `${r.orgName} (ODS code ${r.orgCode})`,
      `Role profile ${r.personRoleId}, national RBAC code ${r.roleCode}`,
    ],
  }));
  return page(
    frame,
    'Select your role',
    `${errorSummary(error ? [{ href: 'role', text: error }] : [])}
${form(
  action,
  `${hiddenInput('user', user.sub)}
${hiddenInput('step', 'role')}
${radios({
  name: 'role',
  idPrefix: 'role',
  legend: 'Select your role',
  hint: `${fullName(user)}, user ID ${user.sub}. The role you select decides what you can see and do.`,
  ...(error !== undefined && { error }),
  items,
})}
${button('Continue')}`,
)}
${insetText(SANDBOX_NOTE)}`,
    error !== undefined,
  );
}

function fullName(user: Cis2TestUser): string {
  return `${user.title} ${user.givenName} ${user.familyName}`;
}

/** A role as people name it: `Nurse Access Role (R8001)`, the job role of its national RBAC name and code. */
function roleTitle(role: Cis2Role): string {
  const name = role.roleName.split(':').pop()?.replace(/"/g, '') ?? role.roleCode;
  return `${name} (${role.roleCode.split(':').pop() ?? role.roleCode})`;
}

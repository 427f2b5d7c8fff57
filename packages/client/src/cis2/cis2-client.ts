import type {
  AuthorizationRequestBase,
  CodeExchangeRequest,
  OidcClientOptions,
  OidcTokens,
} from '../oidc/relying-party.js';
import { OidcRelyingParty } from '../oidc/relying-party.js';
import type { Cis2IdTokenClaims, Cis2NrbacRole, Cis2Scope, Cis2UserInfo } from './types.js';

export type Cis2ClientOptions = OidcClientOptions;

/**
 * A CIS2 authorization request
 * (https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/authorization-code-flow).
 */
export interface Cis2AuthorizationRequest extends AuthorizationRequestBase {
  scope: Cis2Scope | readonly Cis2Scope[];
  /**
   * Ask the user to choose a role: adds the `selectedrole` scope and, unless `prompt` says
   * otherwise, `prompt=login` (CIS2 "role selection" guidance); the id_token then carries
   * `selected_roleid`.
   */
  selectRole?: boolean;
  prompt?: 'none' | 'login';
  uiLocales?: string;
}

/**
 * Relying party for CIS2 Authentication (clinicians, smartcard): authorization code flow with PKCE,
 * `private_key_jwt` and RS512 id_tokens. Endpoints come from the issuer's discovery document
 * (CIS2's token endpoint is `/access_token`, its keys `/connect/jwk_uri`). Failures throw
 * `AuthError` (see `OidcErrorCode`).
 *
 * @example
 * const cis2 = new Cis2Client({
 *   issuer: 'https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
 *   clientId: '999999999999.apps.national',
 *   privateKey: pem,
 *   kid: 'cis2-1',
 *   redirectUri: 'https://app.example.com/auth/cis2/callback',
 * });
 * const url = await cis2.authorizationUrl({ scope: ['openid', 'nationalrbacaccess'], selectRole: true, state, nonce, codeVerifier });
 * const { claims, accessToken } = await cis2.exchangeCode({ callbackUrl, state, nonce, codeVerifier });
 * const info = await cis2.userinfo(accessToken, claims.sub);
 * const role = selectedRole(info, claims.selected_roleid);
 */
export class Cis2Client {
  readonly #rp: OidcRelyingParty;

  constructor(options: Cis2ClientOptions) {
    this.#rp = new OidcRelyingParty('CIS2', options);
  }

  /**
   * The URL to send the browser to.
   *
   * @example
   * const url = await cis2.authorizationUrl({ scope: 'openid profile nationalrbacaccess', selectRole: true, state, nonce, codeVerifier });
   */
  async authorizationUrl(request: Cis2AuthorizationRequest): Promise<URL> {
    const scopes = typeof request.scope === 'string' ? request.scope.split(/\s+/) : [...request.scope];
    if (request.selectRole && !scopes.includes('selectedrole')) scopes.push('selectedrole');
    const extra: Record<string, string> = {};
    const prompt = request.prompt ?? (request.selectRole ? 'login' : undefined);
    if (prompt !== undefined) extra.prompt = prompt;
    if (request.uiLocales !== undefined) extra.ui_locales = request.uiLocales;
    return this.#rp.authorizationUrl({ ...request, scope: scopes }, extra);
  }

  /**
   * Redeems the code from the callback: checks `state`, authenticates with `private_key_jwt`
   * (at CIS2's `/access_token`), and validates the id_token (RS512, `iss`, `aud`, `exp`, `nonce`).
   *
   * @example
   * const { claims } = await cis2.exchangeCode({ callbackUrl: request.url, state, nonce, codeVerifier });
   * console.log(claims.acr, claims.amr, claims.selected_roleid);
   */
  exchangeCode(request: CodeExchangeRequest): Promise<OidcTokens<Cis2IdTokenClaims>> {
    return this.#rp.exchangeCode<Cis2IdTokenClaims>(request);
  }

  /**
   * The user's CIS2 UserInfo: roles (`nhsid_nrbac_roles`), organisations, professional ids. Pass
   * the id_token's `sub` to have it checked.
   *
   * @example
   * const info = await cis2.userinfo(tokens.accessToken, tokens.claims.sub);
   * for (const role of info.nhsid_nrbac_roles ?? []) console.log(role.role_code, role.org_code);
   */
  userinfo(accessToken: string, expectedSubject?: string): Promise<Cis2UserInfo> {
    return this.#rp.userinfo<Cis2UserInfo>(accessToken, expectedSubject);
  }
}

/**
 * The role the user selected at sign-in (`selected_roleid` = a role's `person_roleid`), if any.
 *
 * @example
 * const role = selectedRole(info, tokens.claims.selected_roleid); // role?.role_code, role?.org_code
 */
export function selectedRole(
  info: Cis2UserInfo,
  selectedRoleId: string | undefined,
): Cis2NrbacRole | undefined {
  if (selectedRoleId === undefined) return undefined;
  return info.nhsid_nrbac_roles?.find((role) => role.person_roleid === selectedRoleId);
}

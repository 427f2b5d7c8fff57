import { AuthError } from '../auth/auth-error.js';
import {
  type AuthorizationRequestBase,
  type CodeExchangeRequest,
  type OidcClientOptions,
  OidcRelyingParty,
  type OidcTokens,
  scopeSet,
} from '../oidc/relying-party.js';
import type { NhsLoginIdTokenClaims, NhsLoginScope, NhsLoginUserInfo, VectorOfTrust } from './types.js';

export type NhsLoginClientOptions = OidcClientOptions;

/** An NHS login authorization request (NHS login Interface Specification – Federation, `/authorize` parameters). */
export interface NhsLoginAuthorizationRequest extends AuthorizationRequestBase {
  scope: NhsLoginScope | readonly NhsLoginScope[];
  /** Acceptable vectors of trust, sent as a JSON array; NHS login's default is `DEFAULT_NHS_LOGIN_VTR`. */
  vtr?: readonly VectorOfTrust[];
  prompt?: 'none' | 'login';
  /** e.g. `cy` for Welsh. */
  uiLocales?: string;
}

/**
 * Relying party for NHS login (patients): authorization code flow with PKCE, `private_key_jwt`
 * client authentication and RS512 id_tokens (NHS login Interface Specification – Federation). Endpoints
 * come from the issuer's discovery document. Failures throw `AuthError` (see `OidcErrorCode`).
 *
 * @example
 * const nhsLogin = new NhsLoginClient({
 *   issuer: 'https://auth.sandpit.signin.nhs.uk',
 *   clientId: 'my-client-id',
 *   privateKey: pem,
 *   kid: 'nhs-login-1',
 *   redirectUri: 'https://app.example.com/auth/nhs-login/callback',
 * });
 * const { codeVerifier } = await generatePkce();
 * const state = randomState();
 * const nonce = randomNonce();
 * const url = await nhsLogin.authorizationUrl({ scope: ['openid', 'profile'], vtr: ['P9.Cp.Cd'], state, nonce, codeVerifier });
 * // ...redirect, then on the callback:
 * const { claims, accessToken } = await nhsLogin.exchangeCode({ callbackUrl, state, nonce, codeVerifier });
 * console.log(claims.nhs_number, claims.identity_proofing_level);
 */
export class NhsLoginClient {
  readonly #rp: OidcRelyingParty;

  constructor(options: NhsLoginClientOptions) {
    this.#rp = new OidcRelyingParty('NHS login', options);
  }

  /**
   * The URL to send the browser to. Rejects `profile` with `basic_demographics` (mutually exclusive
   * in NHS login) with `AuthError` `invalid_scope`, before any request.
   *
   * @example
   * const url = await nhsLogin.authorizationUrl({ scope: 'openid profile email', state, nonce, codeVerifier, prompt: 'login' });
   */
  async authorizationUrl(request: NhsLoginAuthorizationRequest): Promise<URL> {
    const scopes = scopeSet(request.scope);
    if (scopes.has('profile') && scopes.has('basic_demographics')) {
      throw new AuthError('invalid_scope', {
        description:
          "NHS login scopes 'profile' and 'basic_demographics' are mutually exclusive: ask for one",
      });
    }
    const extra: Record<string, string> = {};
    if (request.vtr !== undefined) {
      if (request.vtr.length === 0 || !request.vtr.every((v) => /^P(0|5|9)(\.C[a-z])*$/.test(v))) {
        throw new AuthError('invalid_request', {
          description: 'vtr must list vectors of trust such as "P9.Cp.Cd"',
        });
      }
      extra.vtr = JSON.stringify(request.vtr);
    }
    if (request.prompt !== undefined) extra.prompt = request.prompt;
    if (request.uiLocales !== undefined) extra.ui_locales = request.uiLocales;
    return this.#rp.authorizationUrl(request, extra);
  }

  /**
   * Redeems the code from the callback: checks `state`, authenticates with `private_key_jwt`, and
   * validates the id_token (RS512 signature, `iss`, `aud`, `exp`, `nonce`).
   *
   * @example
   * const tokens = await nhsLogin.exchangeCode({ callbackUrl: request.url, state, nonce, codeVerifier });
   */
  exchangeCode(request: CodeExchangeRequest): Promise<OidcTokens<NhsLoginIdTokenClaims>> {
    return this.#rp.exchangeCode<NhsLoginIdTokenClaims>(request);
  }

  /**
   * The user's claims for the granted scopes. Pass the id_token's `sub` to have it checked.
   *
   * @example
   * const info = await nhsLogin.userinfo(tokens.accessToken, tokens.claims.sub);
   */
  userinfo(accessToken: string, expectedSubject?: string): Promise<NhsLoginUserInfo> {
    return this.#rp.userinfo<NhsLoginUserInfo>(accessToken, expectedSubject);
  }
}

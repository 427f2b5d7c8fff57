/** NHS login identity proofing levels (https://nhsconnect.github.io/nhslogin/vectors-of-trust/). */
export type IdentityProofingLevel = 'P0' | 'P5' | 'P9';

/**
 * A vector of trust: a proofing level and authentication components, e.g. `P9.Cp.Cd`
 * (Cp password, Cd registered device, Ck device key, Cm FIDO UAF).
 */
export type VectorOfTrust = `${IdentityProofingLevel}.${string}`;

/** What NHS login asks for when `vtr` is omitted. */
export const DEFAULT_NHS_LOGIN_VTR: readonly VectorOfTrust[] = ['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm'];

/** NHS login scopes (https://nhsconnect.github.io/nhslogin/scopes-and-claims/); other strings pass through. */
export type NhsLoginScope =
  | 'openid'
  | 'profile'
  | 'basic_demographics'
  | 'profile_extended'
  | 'email'
  | 'phone'
  | 'landline'
  | 'gp_registration_details'
  | 'gp_integration_credentials'
  | 'client_metadata'
  | (string & {});

/** Claims of a validated NHS login id_token (fixture: identity-service-api `e2e/tests/conftest.py`). */
export interface NhsLoginIdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti?: string;
  auth_time?: number;
  nonce?: string;
  /** The vector of trust achieved, e.g. `P9.Cp.Cd`. */
  vot?: string;
  /** The trustmark URL. */
  vtm?: string;
  nhs_number?: string;
  identity_proofing_level?: IdentityProofingLevel;
  family_name?: string;
  birthdate?: string;
  id_status?: string;
  token_use?: string;
  [claim: string]: unknown;
}

/** NHS login UserInfo, by scope (https://nhsconnect.github.io/nhslogin/scopes-and-claims/). */
export interface NhsLoginUserInfo {
  sub: string;
  /** `profile` */
  nhs_number?: string;
  family_name?: string;
  birthdate?: string;
  identity_proofing_level?: IdentityProofingLevel;
  /** `profile_extended` */
  given_name?: string;
  /** `email` */
  email?: string;
  email_verified?: boolean;
  /** `phone` */
  phone_number?: string;
  phone_number_verified?: boolean;
  phone_number_pds_matched?: boolean;
  /** `gp_registration_details` */
  gp_registration_details?: { gp_ods_code?: string; [field: string]: unknown };
  /** `gp_integration_credentials` (P9 only): the IM1 linkage credentials. */
  gp_integration_credentials?: {
    gp_linkage_key?: string;
    gp_ods_code?: string;
    gp_user_id?: string;
    [field: string]: unknown;
  };
  [claim: string]: unknown;
}

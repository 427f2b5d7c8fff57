/**
 * CIS2 scopes (https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/scopes-and-claims);
 * other strings pass through.
 */
export type Cis2Scope =
  | 'openid'
  | 'profile'
  | 'email'
  | 'nhsperson'
  | 'associatedorgs'
  | 'nationalrbacaccess'
  | 'professionalmemberships'
  | 'organisationalmemberships'
  | 'selectedrole'
  | (string & {});

/** Claims of a validated CIS2 id_token (fixture: identity-service-api `cis2_subject_token_claims`). */
export interface Cis2IdTokenClaims {
  iss: string;
  /** The user's UUID, e.g. `787807429511`. */
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  auth_time?: number;
  /** Authentication assurance, e.g. `AAL3_ANY`. */
  acr?: string;
  /** Authentication methods, e.g. `["N3_SMARTCARD"]`. */
  amr?: string[];
  id_assurance_level?: number;
  authentication_assurance_level?: number;
  realm?: string;
  azp?: string;
  auditTrackingId?: string;
  /** The role profile the user chose (with the `selectedrole` scope); goes in `NHSD-Session-URID`. */
  selected_roleid?: string;
  [claim: string]: unknown;
}

/** One national RBAC role of the user at one organisation (CIS2 UserInfo `nhsid_nrbac_roles`). */
export interface Cis2NrbacRole {
  person_orgid: string;
  /** The role profile id (what `selected_roleid` names). */
  person_roleid: string;
  /** ODS code of the organisation. */
  org_code: string;
  role_name: string;
  /** National RBAC code `S…:G…:R…`, e.g. `S8000:G8000:R8000`. */
  role_code: string;
  activities?: string[];
  activity_codes?: string[];
  workgroups?: string[];
  workgroups_codes?: string[];
  aow?: unknown;
  [field: string]: unknown;
}

/** CIS2 UserInfo (CIS2 "Scopes and claims", as above; example in NHSDigital/identity-service-api `response_bank.py`). */
export interface Cis2UserInfo {
  sub: string;
  nhsid_useruid?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  email?: string;
  nhsid_nrbac_roles?: Cis2NrbacRole[];
  nhsid_org_memberships?: Array<{
    person_orgid?: string;
    org_name?: string;
    org_code?: string;
    [field: string]: unknown;
  }>;
  nhsid_user_orgs?: Array<{ org_name?: string; org_code?: string; [field: string]: unknown }>;
  idassurancelevel?: string;
  selected_roleid?: string;
  gmc_id?: string;
  nmc_id?: string;
  gphc_id?: string;
  [claim: string]: unknown;
}

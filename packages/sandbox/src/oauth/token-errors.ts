/**
 * The error answers of the API platform's token endpoint (`POST /oauth2/token`), exactly as the
 * Apigee proxy of NHSDigital/identity-service-api sends them. Sources, all under
 * `proxies/live/apiproxy/`: `policies/*.xml` (named per entry) and
 * `resources/jsc/validate-client-assertion-claims.js` (the claim checks); the statuses are
 * confirmed by `e2e/tests/oauth/test_client_credentials.py`.
 */
export interface TokenError {
  /** HTTP status. */
  readonly status: number;
  /** OAuth `error` (the platform also uses the non-RFC value `public_key error`). */
  readonly error: string;
  readonly description: string;
}

const invalidRequest = (status: number, description: string): TokenError => ({
  status,
  error: 'invalid_request',
  description,
});

export const TOKEN_ERRORS = {
  // policies/RaiseFault.ContentTypeMustBeFormUrlEncoded.xml
  contentType: invalidRequest(415, 'Content-Type header must be application/x-www-form-urlencoded'),
  // policies/RaiseFault.MissingGrantType.xml
  grantTypeMissing: invalidRequest(400, 'grant_type is missing'),
  // policies/RaiseFault.UnsupportedGrantType.xml
  grantTypeUnsupported: {
    status: 400,
    error: 'unsupported_grant_type',
    description: 'grant_type is invalid',
  },
  // policies/RaiseFault.InvalidGrantType.xml (token-exchange flow entered with another grant_type)
  grantTypeInvalid: invalidRequest(400, 'grant_type is invalid'),
  // policies/RaiseFault.MissingOrInvalidClientAssertionType.xml
  clientAssertionType: invalidRequest(
    400,
    "Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'",
  ),
  // policies/AssignMessage.MissingClientAssertion.xml
  clientAssertionMissing: invalidRequest(400, 'Missing client_assertion'),
  // policies/AssignMessage.FailedToDecodeClientAssertionJWTError.xml
  clientAssertionMalformed: invalidRequest(400, 'Malformed JWT in client_assertion'),

  // resources/jsc/validate-client-assertion-claims.js (all 400), in the order that script checks them
  algInvalid: invalidRequest(
    400,
    "Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'",
  ),
  expExpired: invalidRequest(400, "Invalid 'exp' claim in client_assertion JWT - JWT has expired"),
  kidMissing: invalidRequest(400, "Missing 'kid' header in client_assertion JWT"),
  typInvalid: invalidRequest(400, "Invalid 'typ' header in client_assertion JWT - must be 'JWT'"),
  expMissing: invalidRequest(400, "Missing 'exp' claim in client_assertion JWT"),
  expNotInteger: invalidRequest(400, "Invalid 'exp' claim in client_assertion JWT - must be an integer"),
  issSubMismatch: invalidRequest(400, "Missing or non-matching 'iss'/'sub' claims in client_assertion JWT"),
  jtiMissing: invalidRequest(400, "Missing 'jti' claim in client_assertion JWT"),
  jtiInvalid: invalidRequest(
    400,
    "Invalid 'jti' claim in client_assertion JWT - must be a unique string value such as a GUID",
  ),
  jtiReused: invalidRequest(400, "Non-unique 'jti' claim in client_assertion JWT"),
  expTooFar: invalidRequest(
    400,
    "Invalid 'exp' claim in client_assertion JWT - more than 5 minutes in future",
  ),

  // policies/AssignMessage.ClientCredentialsInvalidSubject.xml (VerifyAPIKey on `sub` failed)
  unknownClient: invalidRequest(401, "Invalid 'iss'/'sub' claims in client_assertion JWT"),
  // policies/RaiseFault.PublicKeyMisconfigured.xml (the app has no JWKS)
  noPublicKey: {
    status: 403,
    error: 'public_key error',
    description:
      'You need to register a public key to use this authentication method - please contact support to configure',
  },
  // policies/AssignMessage.NoMatchingPublicKeyClientCredentials.xml
  kidNoMatch: invalidRequest(401, "Invalid 'kid' header in client_assertion JWT - no matching public key"),
  // policies/AssignMessage.InvalidJWTSignature.xml (client assertion and subject token alike)
  signature: { status: 401, error: 'public_key error', description: 'JWT signature verification failed' },
  // policies/AssignMessage.AudClaimInvalid.xml
  audInvalid: invalidRequest(401, "Missing or invalid 'aud' claim in client_assertion JWT"),
  // policies/AssignMessage.CatchallErrorMessage.xml: what any other VerifyJWT fault (e.g. a future
  // `nbf`, Apigee's TokenNotYetValid, 401) ends up as.
  unknown: {
    status: 401,
    error: 'unknown_error',
    description:
      'An unknown error occurred processing this request. Contact us for assistance diagnosing this issue: https://digital.nhs.uk/developer/help-and-support quoting Message ID',
  },
  // policies/RaiseFault.NotFound.xml
  notFound: invalidRequest(404, 'Not Found'),

  // ---- Token exchange (Flow.PostTokenTokenExchange in proxies/default.xml) ----
  // policies/RaiseFault.InvalidSubjectTokenType.xml (Flow.PostTokenInvalidSubjectTokenType)
  subjectTokenType: invalidRequest(
    400,
    "missing or invalid subject_token_type - must be 'urn:ietf:params:oauth:token-type:id_token'",
  ),
  // policies/AssignMessage.MissingSubjectToken.xml
  subjectTokenMissing: invalidRequest(400, 'Missing subject_token'),
  // policies/AssignMessage.FailedToDecodeSubjectTokenJWTError.xml
  subjectTokenMalformed: invalidRequest(400, 'Malformed JWT in subject_token'),
  // resources/jsc/validate-subject-token-claims.js, in that script's order
  subjectKidMissing: invalidRequest(400, "Missing 'kid' header in subject_token JWT"),
  subjectTypInvalid: invalidRequest(400, "Invalid 'typ' header in subject_token JWT - must be 'JWT'"),
  subjectAlgMissing: invalidRequest(400, "Missing 'alg' header in subject_token JWT"),
  subjectExpMissing: invalidRequest(400, "Missing 'exp' claim in subject_token JWT"),
  subjectExpNotInteger: invalidRequest(400, "Invalid 'exp' claim in subject_token JWT - must be an integer"),
  subjectExpExpired: invalidRequest(400, "Invalid 'exp' claim in subject_token JWT - JWT has expired"),
  subjectIssMissing: invalidRequest(400, "Missing 'iss' claim in subject_token JWT"),
  subjectAudMissing: invalidRequest(401, "Missing 'aud' claim in subject_token JWT"),
  // resources/jsc/validate-actor-token-claims.js (the nested `act.sub` JWT of delegated NHS login access)
  actKidMissing: invalidRequest(400, "Missing 'kid' header in act.sub JWT"),
  actTypInvalid: invalidRequest(400, "Invalid 'typ' header in act.sub JWT - must be 'JWT'"),
  actAlgMissing: invalidRequest(400, "Missing 'alg' header in act.sub JWT"),
  actExpMissing: invalidRequest(400, "Missing 'exp' claim in act.sub JWT"),
  actExpNotInteger: invalidRequest(400, "Invalid 'exp' claim in act.sub JWT - must be an integer"),
  actIssMissing: invalidRequest(400, "Missing 'iss' claim in act.sub JWT"),
  actAudMissing: invalidRequest(401, "Missing 'aud' claim in act.sub JWT"),
  // resources/jsc/SelectIdTokenIssuer.js (iss must be the configured CIS2 or NHS login issuer;
  // an aud of [""] passes the script above but not this one, and gets a 400)
  subjectIssNotMatching: invalidRequest(400, "Missing or non-matching 'iss' claim in subject_token JWT"),
  subjectAudEmpty: invalidRequest(400, "Missing 'aud' claim in subject_token JWT"),
  // resources/jsc/validate-id-token-claims.js: the platform's check that an identity provider's
  // id_token was issued to the app (its auth-code callback flow); the sandbox applies it to token
  // exchange as well, against the app's nhsLoginClientId / cis2ClientId.
  subjectAudInvalid: invalidRequest(400, "Invalid 'aud' claim in external ID token JWT"),
  // policies/AssignMessage.NoMatchingPublicKeySubjectToken.xml (kid not in the provider's JWKS)
  subjectKidNoMatch: invalidRequest(
    401,
    "Invalid 'kid' header in subject_token JWT - no matching public key",
  ),
  // policies/RaiseFault.VerifyAccessLevel.xml: no product scope of the token's assurance level
  accessLevel: {
    status: 401,
    error: 'unauthorized_client',
    description:
      'you have tried to request authorization but your application is not configured to use this authorization grant type',
  },
} as const satisfies Record<string, TokenError>;

import type { JWK } from 'jose';

/** A relying party registered with a sandbox identity provider (NHS login or CIS2). */
export interface OidcClientRegistration {
  clientId: string;
  /** Exact redirect URIs; any other is refused. */
  redirectUris: string[];
  /** Public keys of the client's `private_key_jwt` assertions (RS512). */
  jwks: { keys: JWK[] };
}

/** What other sandbox parts (token exchange) need to know about an identity provider. */
export interface IdentityProviderHandle {
  kind: 'nhs-login' | 'cis2';
  /** The issuer the provider uses for requests on `origin`, e.g. `http://127.0.0.1:9000/nhs-login`. */
  issuerFor(origin: string): string;
  /** Verification keys of its id_tokens (RS512); the same for every origin. */
  publicJwks(): { keys: JWK[] };
}

import type { JWK } from 'jose';

/**
 * An app registered on the API platform: its API key (the `client_id`, which is also the
 * client assertion's `iss` and `sub`) and the public keys the platform would fetch from the
 * app's `jwks-resource-url`.
 */
export interface RegisteredApp {
  apiKey: string;
  jwks: { keys: JWK[] };
  /** The app's client_id at NHS login: the `aud` a token-exchange subject token from NHS login must carry. */
  nhsLoginClientId?: string;
  /** The app's client_id at CIS2: the `aud` a token-exchange subject token from CIS2 must carry. */
  cis2ClientId?: string;
}

/** The identity-provider registrations of an app, for user-restricted access (token exchange). */
export type RegisteredAppOptions = Pick<RegisteredApp, 'nhsLoginClientId' | 'cis2ClientId'>;

// Members that only a private JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Builds a {@link RegisteredApp} from an API key and a public JWK set (the JSON an app publishes
 * at its JWKS URL), rejecting anything the platform could not use: a missing API key, a key
 * without `kid`, or a private key (a sandbox must never be handed one).
 *
 * @example
 * const app = registeredAppFromJwks('my-api-key', JSON.parse(await readFile('jwks.json', 'utf8')));
 * const userApp = registeredAppFromJwks('my-api-key', jwks, { nhsLoginClientId: 'my-nhs-login-client' });
 */
export function registeredAppFromJwks(
  apiKey: string,
  jwks: unknown,
  options: RegisteredAppOptions = {},
): RegisteredApp {
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new TypeError('A registered app needs a non-empty API key');
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(keys)) {
    throw new TypeError('A JWK set must be an object with a "keys" array');
  }
  for (const name of ['nhsLoginClientId', 'cis2ClientId'] as const) {
    const value: unknown = options[name];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new TypeError(`${name} must be a non-empty string when given`);
    }
  }
  return {
    apiKey,
    ...(options.nhsLoginClientId !== undefined && { nhsLoginClientId: options.nhsLoginClientId }),
    ...(options.cis2ClientId !== undefined && { cis2ClientId: options.cis2ClientId }),
    jwks: {
      keys: keys.map((key: unknown, i) => {
        if (typeof key !== 'object' || key === null || Array.isArray(key)) {
          throw new TypeError(`JWK set entry ${i} is not an object`);
        }
        const jwk = key as JWK;
        if (typeof jwk.kid !== 'string' || jwk.kid === '') {
          throw new TypeError(`JWK set entry ${i} has no "kid" (the platform selects keys by kid)`);
        }
        if (PRIVATE_MEMBERS.some((m) => m in jwk)) {
          throw new TypeError(`JWK "${jwk.kid}" is a private or symmetric key; register public keys only`);
        }
        return { ...jwk };
      }),
    },
  };
}

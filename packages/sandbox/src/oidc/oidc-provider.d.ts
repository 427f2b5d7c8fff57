// The parts of oidc-provider@9 (untyped JavaScript) the sandbox uses; see its docs/README.md.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, string | undefined>;
    session?: { accountId?: string };
    grantId?: string;
    exp: number;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    save(): Promise<string>;
    jti: string;
  }

  export interface KoaContextLike {
    oidc: {
      params: Record<string, unknown>;
      /** The interaction result while an authorisation resumes after sign-in. */
      result?: { login?: Record<string, unknown>; consent?: { grantId?: string } };
      entities: Record<string, { grantId?: string; jti?: string } | undefined>;
      client?: { clientId: string };
      provider: { issuer: string };
    };
  }

  export interface AccountLike {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    proxy: boolean;
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    Grant: new (init: {
      accountId: string;
      clientId: string;
    }) => GrantInstance;
    on(event: string, listener: (...args: unknown[]) => void): this;
    /** Koa middleware around every request; after `next()` the route has set `ctx.body`. */
    use(
      middleware: (
        ctx: { body: unknown; oidc?: { route: string } },
        next: () => Promise<void>,
      ) => Promise<void>,
    ): this;
  }

  export class OIDCProviderError extends Error {
    constructor(status: number, message: string);
    error: string;
    error_description?: string;
  }

  export const errors: {
    InvalidRequest: new (description?: string) => OIDCProviderError;
    InvalidScope: new (description: string, scope: string) => OIDCProviderError;
    AccessDenied: new (description?: string) => OIDCProviderError;
  };

  export class Check {
    constructor(
      reason: string,
      description: string,
      check: (ctx: KoaContextLike) => boolean | Promise<boolean>,
    );
    static REQUEST_PROMPT: true;
    static NO_NEED_TO_PROMPT: false;
  }

  export interface PromptLike {
    name: string;
    checks: Check[];
  }

  export const interactionPolicy: {
    base(): PromptLike[] & { get(name: string): PromptLike | undefined };
    Check: typeof Check;
  };
}

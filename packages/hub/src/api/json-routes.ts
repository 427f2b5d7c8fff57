import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessAction } from '../access/policy.js';
import type { AccessControl, Caller } from './authorise.js';
import { sendFhir } from './fhir-reply.js';

/*
 * What the hub's plain-JSON operational routes (operations-routes, console-routes) share: query
 * parameters read strictly (a bad one is a 400 OperationOutcome naming it, never a crash), and the
 * guard that asks the one policy before a handler runs.
 */

export type Query = Record<string, string | undefined>;

/** Bad input from the caller: answered 400 `invalid` with this message. */
export class BadRequest extends Error {}

/** Fastify schemas: a query of string parameters, and a JSON object answer. */
export const QUERY_SCHEMA = { type: 'object', additionalProperties: { type: 'string' } } as const;
export const ANY_SCHEMA = { type: 'object', additionalProperties: true } as const;

export function outcome(
  code: OperationOutcome['issue'][number]['code'],
  diagnostics: string,
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/** A trimmed text parameter (undefined when absent or empty), at most 300 characters. */
export function text(query: Query, name: string): string | undefined {
  const v = query[name]?.trim();
  if (v === undefined || v === '') return undefined;
  if (v.length > 300) throw new BadRequest(`Parameter '${name}' is too long`);
  return v;
}

export function oneOf<T extends string>(query: Query, name: string, allowed: readonly T[]): T | undefined {
  const v = text(query, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new BadRequest(`Parameter '${name}' must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}

export function whole(query: Query, name: string, min: number, max: number): number | undefined {
  const v = text(query, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new BadRequest(`Parameter '${name}' must be a whole number ${min}..${max}`);
  }
  return n;
}

type Handler = (request: FastifyRequest, reply: FastifyReply, caller: Caller) => Promise<unknown>;

/**
 * `guarded(action, handler)`: the policy decides first (authorise answers and audits a denial);
 * BadRequest and RangeError (the store's own argument checks) become 400; `badInput` may name
 * other errors that are the caller's fault.
 */
export function guardedBy(access: AccessControl, badInput: (error: unknown) => boolean = () => false) {
  return (action: AccessAction, handler: Handler) => async (request: FastifyRequest, reply: FastifyReply) => {
    const caller = await access.authorise(request, reply, action, { auditNhsNumbers: [] });
    if (!caller) return reply;
    try {
      return await handler(request, reply, caller);
    } catch (error) {
      if (error instanceof BadRequest || error instanceof RangeError || badInput(error)) {
        return sendFhir(reply, 400, outcome('invalid', (error as Error).message));
      }
      throw error;
    }
  };
}

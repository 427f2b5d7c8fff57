import { OperationOutcomeError } from '@junction/core';
import type { FastifyInstance } from 'fastify';
import { ACCESS_ACTIONS, type AccessAction, ADMIN_ACTIONS, ROLE_ACTIONS } from '../access/policy.js';
import type { AccessControl } from './authorise.js';

/** Who holds one action under the access policy: hub admin accounts and national RBAC job roles. */
export interface ActionHolders {
  action: AccessAction;
  adminAccounts: boolean;
  /** Job role codes (`R8000`) with their RBAC display names, in the policy's order. */
  roles: { code: string; name: string }[];
}

/**
 * Every action and who holds it, read from the policy's own tables (ADMIN_ACTIONS, ROLE_ACTIONS),
 * so a refused person can be told whom to ask without a copy of the policy anywhere else.
 */
export function actionHolders(): ActionHolders[] {
  return ACCESS_ACTIONS.map((action) => ({
    action,
    adminAccounts: ADMIN_ACTIONS.includes(action),
    roles: Object.entries(ROLE_ACTIONS)
      .filter(([, role]) => role.actions.includes(action))
      .map(([code, role]) => ({ code, name: role.name })),
  }));
}

/**
 * `GET /access/holders`: the policy as a table, for the console's "You do not have access" page.
 * Any signed-in person or API key may read it: it is the hub's configuration, with no patient data.
 */
export async function accessHoldersRoutes(app: FastifyInstance, options: { access: AccessControl }) {
  const holders = actionHolders();
  app.get(
    '/access/holders',
    {
      schema: {
        summary:
          'Who holds each policy action: whether hub admin accounts do, and which national RBAC job roles (code and name)',
        tags: ['Sign-in'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request) => {
      const auth = await options.access.authenticate(request);
      // A GET is never refused as cross-site: every failure here is a missing or dead credential.
      if (!auth.ok) {
        throw OperationOutcomeError.spine('ACCESS_DENIED', { status: 401, diagnostics: 'Not signed in' });
      }
      return { holders };
    },
  );
}

import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { principalName, useSession } from '../session';
import { Page } from './page';
import { visibleSections } from './sections';

/**
 * Who holds each action under the hub's access policy (packages/hub/src/access/policy.ts:
 * ADMIN_ACTIONS and ROLE_ACTIONS, national RBAC job role codes), so a refused person knows what to
 * ask their administrator for. Only a hint: the hub's policy decides every call.
 */
const HELD_BY: Record<string, string> = {
  'operations.read': 'hub admin accounts and the CIS2 Admin/Clinical Support Access Role (R8008)',
  'audit.read': 'hub admin accounts and the CIS2 Admin/Clinical Support Access Role (R8008)',
  'jobs.read': 'hub admin accounts and the CIS2 Admin/Clinical Support Access Role (R8008)',
  'jobs.retry': 'hub admin accounts and the CIS2 Admin/Clinical Support Access Role (R8008)',
  'keys.manage': 'hub admin accounts',
  'medicines.import': 'hub admin accounts',
  'medicine.read': 'hub admin accounts and every CIS2 access role',
  'messages.read':
    'hub admin accounts and the CIS2 Clinical Practitioner (R8000), Nurse (R8001), Medical Secretary (R8006) and Admin/Clinical Support (R8008) access roles',
  'patient.read':
    'CIS2 access roles of health and care staff, such as Clinical Practitioner (R8000) or Admin/Clinical Support (R8008); never hub admin accounts',
  'patient.search':
    'CIS2 access roles of health and care staff, such as Clinical Practitioner (R8000) or Admin/Clinical Support (R8008); never hub admin accounts',
};

function Permission({ action }: { action: string }) {
  const who = HELD_BY[action];
  return (
    <>
      <code className="app-action">{action}</code>
      {who && ` (${who})`}
    </>
  );
}

/**
 * The one page a signed-in person sees where their session lacks every action `actions` (from
 * `GET /auth/session`): the NHS.UK message, the permission needed and who has it, and a way back.
 * Nothing of the page itself is rendered, so it makes no call the hub would refuse.
 */
export function NoAccess({ page, actions }: { page: string; actions: string[] }) {
  const session = useSession();
  const back = visibleSections(session)[0];
  const info = session.info;
  return (
    <Page title="You do not have access to this page">
      {actions.length === 1 && actions[0] !== undefined ? (
        <p className="nhsuk-body">
          {page} needs the permission <Permission action={actions[0]} />.
        </p>
      ) : (
        <>
          <p className="nhsuk-body">{page} needs one of these permissions:</p>
          <ul className="nhsuk-list nhsuk-list--bullet">
            {actions.map((a) => (
              <li key={a}>
                <Permission action={a} />
              </li>
            ))}
          </ul>
        </>
      )}
      {info && (
        <p className="nhsuk-body">
          You are signed in as {principalName(info.principal)}. If you need this page, ask your hub
          administrator, or sign out and sign in with a role that has the permission.
        </p>
      )}
      <p className="nhsuk-body">
        {back ? (
          <Link to={back.path}>Go to {back.label}</Link>
        ) : (
          <Link to="/">Go to the start of the console</Link>
        )}
      </p>
    </Page>
  );
}

/** `children` when the session may do any of `actions`, otherwise the {@link NoAccess} page. */
export function RequireAction({
  page,
  actions,
  children,
}: {
  page: string;
  actions: string[];
  children: ReactNode;
}) {
  const session = useSession();
  return actions.some((a) => session.can(a)) ? children : <NoAccess page={page} actions={actions} />;
}

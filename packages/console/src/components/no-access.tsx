import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { ActionHolders } from '../api';
import { principalName, useSession } from '../session';
import { BreakableText } from './breakable-text';
import { Page } from './page';
import { visibleSections } from './sections';
import { useApi } from './use-api';

/** A list in words: `a`, `a and b`, `a, b and c`. */
function inWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The CIS2 roles holding an action, in words (`everyRole`: every job role the policy grants anything to). */
function rolesInWords(roles: ActionHolders['roles'], everyRole: ReadonlySet<string>): string | undefined {
  const [first] = roles;
  if (first === undefined) return undefined;
  if (roles.length === 1) return `the CIS2 ${first.name} (${first.code})`;
  if (roles.length === everyRole.size) {
    return `every CIS2 access role the hub grants access to (${inWords(roles.map((r) => r.code))})`;
  }
  // "Nurse (R8001) … access roles": the shared "Access Role" said once.
  return `the CIS2 ${inWords(roles.map((r) => `${r.name.replace(/ Access Role$/, '')} (${r.code})`))} access roles`;
}

/**
 * Who holds `holders.action`, in words, so a refused person knows what to ask their administrator
 * for. From the hub's own policy (`GET /access/holders`); only a hint: the policy decides every call.
 */
function heldBy(holders: ActionHolders, everyRole: ReadonlySet<string>): string {
  const roles = rolesInWords(holders.roles, everyRole);
  if (holders.adminAccounts) return roles ? `hub admin accounts and ${roles}` : 'hub admin accounts';
  return roles ? `${roles}; never hub admin accounts` : 'no CIS2 access role or hub admin account';
}

function Permission({ action, holders }: { action: string; holders: ActionHolders[] | undefined }) {
  const held = holders?.find((h) => h.action === action);
  const everyRole = new Set(holders?.flatMap((h) => h.roles.map((r) => r.code)));
  return (
    <>
      <BreakableText text={action} code />
      {held && ` (${heldBy(held, everyRole)})`}
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
  // Who holds what is a hint: while it loads, or if the hub cannot say, the permission stands alone.
  const holders = useApi<{ holders: ActionHolders[] }>('/access/holders').data?.holders;
  return (
    <Page title="You do not have access to this page">
      {actions.length === 1 && actions[0] !== undefined ? (
        <p className="nhsuk-body">
          {page} needs the permission <Permission action={actions[0]} holders={holders} />.
        </p>
      ) : (
        <>
          <p className="nhsuk-body">{page} needs one of these permissions:</p>
          <ul className="nhsuk-list nhsuk-list--bullet">
            {actions.map((a) => (
              <li key={a}>
                <Permission action={a} holders={holders} />
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

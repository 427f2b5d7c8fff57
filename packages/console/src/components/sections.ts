import type { SessionState } from '../session';

/** The console's sections, and the action (any of) that shows each one. */
export const SECTIONS: { path: string; label: string; actions: string[] }[] = [
  { path: '/overview', label: 'Overview', actions: ['operations.read'] },
  { path: '/patients', label: 'Patients', actions: ['patient.search', 'patient.read'] },
  { path: '/medicines', label: 'Medicines', actions: ['medicine.read'] },
  { path: '/messages', label: 'Messages and jobs', actions: ['messages.read', 'jobs.read'] },
  { path: '/audit', label: 'Audit', actions: ['audit.read'] },
  { path: '/settings', label: 'Settings', actions: ['keys.manage', 'operations.read'] },
];

/** The sections the signed-in principal may use, in navigation order. */
export function visibleSections(session: Pick<SessionState, 'can'>) {
  return SECTIONS.filter((s) => s.actions.some((a) => session.can(a)));
}

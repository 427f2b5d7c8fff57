import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, api, type Principal, type SessionInfo } from './api';

export interface SessionState {
  /** `loading` until the first `/auth/session` answer. */
  status: 'loading' | 'signed-in' | 'signed-out' | 'error';
  info?: SessionInfo;
  error?: ApiError;
  /** Whether the signed-in principal may do `action` (true for any action if the hub does not say). */
  can(action: string): boolean;
  refresh(): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

/** CIS2 role names come as `"Job area":"Job group":"Role"`: the role is the last part. */
function roleNameOf(roleName: string): string {
  const parts = roleName.split('":"');
  return (parts[parts.length - 1] ?? roleName).replace(/"/g, '');
}

export function principalName(p: Principal): string {
  switch (p.kind) {
    case 'admin':
      return `${p.username} (hub admin)`;
    case 'clinician':
      // The hub names a clinician only when CIS2 gave a name; otherwise the smartcard's user id
      // (`nhsid_useruid`), said as what it is rather than a bare number.
      return `${p.name ?? `Smartcard user ${p.uid}`}${p.roleName ? `, ${roleNameOf(p.roleName)}` : ''} (${p.organisationOds})`;
    case 'api-key':
      return `API key ${p.name}`;
    case 'patient':
      return 'NHS login user';
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Pick<SessionState, 'status' | 'info' | 'error'>>({ status: 'loading' });

  const refresh = useCallback(async () => {
    try {
      const info = await api<SessionInfo>('/auth/session');
      setState({ status: 'signed-in', info });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setState({ status: 'signed-out' });
      else
        setState({
          status: 'error',
          error: error instanceof ApiError ? error : new ApiError(0, [String(error)], '/auth/session'),
        });
    }
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api<void>('/auth/logout', { method: 'POST', body: {} });
    } finally {
      setState({ status: 'signed-out' });
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const value = useMemo<SessionState>(() => {
    const actions = state.info?.actions;
    return {
      ...state,
      can: (action: string) =>
        state.status === 'signed-in' && (actions === undefined || actions.includes(action)),
      refresh,
      signOut,
    };
  }, [state, refresh, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

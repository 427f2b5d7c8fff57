import { Footer, Header, SkipLink } from 'nhsuk-react-components';
import { lazy, type ReactNode, Suspense } from 'react';
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { ErrorBox } from './components/error-box';
import { Page } from './components/page';
import { principalName, type SessionState, useSession } from './session';

const SignInPage = lazy(() => import('./pages/sign-in'));
const OverviewPage = lazy(() => import('./pages/overview'));
const PatientsPage = lazy(() => import('./pages/patients'));
const PatientPage = lazy(() => import('./pages/patient'));
const MedicinesPage = lazy(() => import('./pages/medicines'));
const MedicinePage = lazy(() => import('./pages/medicine'));
const MessagesPage = lazy(() => import('./pages/messages'));
const MessagePage = lazy(() => import('./pages/message'));
const JobPage = lazy(() => import('./pages/job'));
const AuditPage = lazy(() => import('./pages/audit'));
const SettingsPage = lazy(() => import('./pages/settings'));

/** The console's sections, and the action (any of) that shows each one. */
export const SECTIONS: { path: string; label: string; actions: string[] }[] = [
  { path: '/overview', label: 'Overview', actions: ['operations.read'] },
  { path: '/patients', label: 'Patients', actions: ['patient.search', 'patient.read'] },
  { path: '/medicines', label: 'Medicines', actions: ['medicine.read'] },
  { path: '/messages', label: 'Messages and jobs', actions: ['messages.read', 'jobs.read'] },
  { path: '/audit', label: 'Audit', actions: ['audit.read'] },
  { path: '/settings', label: 'Settings', actions: ['keys.manage', 'operations.read'] },
];

function visibleSections(session: SessionState) {
  return SECTIONS.filter((s) => s.actions.some((a) => session.can(a)));
}

function Loading() {
  return (
    <main className="nhsuk-main-wrapper" id="maincontent">
      <p className="nhsuk-body" role="status">
        Loading…
      </p>
    </main>
  );
}

/** Signed-in pages: anyone else goes to the sign-in page. */
function SignedIn({ children }: { children: ReactNode }) {
  const session = useSession();
  if (session.status === 'loading') return <Loading />;
  if (session.status === 'error') {
    return (
      <Page title="The hub could not be reached">
        <ErrorBox error={session.error} />
      </Page>
    );
  }
  if (session.status === 'signed-out') return <Navigate to="/sign-in" replace />;
  return <>{children}</>;
}

/** `/`: the first section this person may use. */
function Home() {
  const session = useSession();
  const first = visibleSections(session)[0];
  if (!first) {
    return (
      <Page title="Nothing to show">
        <p className="nhsuk-body">
          You are signed in as {session.info && principalName(session.info.principal)}, but your role gives
          you no access to the console's pages. Ask your hub administrator, or sign out and sign in with
          another role.
        </p>
      </Page>
    );
  }
  return <Navigate to={first.path} replace />;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p className="nhsuk-body">
        If you typed the web address, check it is correct. <Link to="/">Go to the start of the console</Link>.
      </p>
    </Page>
  );
}

function SiteHeader() {
  const session = useSession();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const info = session.status === 'signed-in' ? session.info : undefined;
  const signedIn = info !== undefined;
  const sections = signedIn ? visibleSections(session) : [];
  return (
    <Header service={{ text: 'Junction console', href: '/console/' }}>
      {signedIn && (
        <Header.Account aria-label="Account">
          <Header.AccountItem>{info && principalName(info.principal)}</Header.AccountItem>
          <Header.AccountItem
            as="button"
            onClick={async () => {
              await session.signOut();
              navigate('/sign-in');
            }}
          >
            Sign out
          </Header.AccountItem>
        </Header.Account>
      )}
      {sections.length > 0 && (
        <Header.Navigation aria-label="Console sections">
          {sections.map((s) => {
            const current = pathname === s.path || pathname.startsWith(`${s.path}/`);
            return (
              <Header.NavigationItem
                key={s.path}
                asElement={Link}
                to={s.path}
                href={`/console${s.path}`}
                {...(current && { current: true })}
              >
                {s.label}
              </Header.NavigationItem>
            );
          })}
        </Header.Navigation>
      )}
    </Header>
  );
}

export function App() {
  return (
    <>
      <SkipLink href="#maincontent">Skip to main content</SkipLink>
      <SiteHeader />
      <div className="nhsuk-width-container">
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/sign-in" element={<SignInPage />} />
            <Route
              path="/"
              element={
                <SignedIn>
                  <Home />
                </SignedIn>
              }
            />
            {(
              [
                ['/overview', <OverviewPage key="o" />],
                ['/patients', <PatientsPage key="p" />],
                ['/patients/:nhsNumber', <PatientPage key="pp" />],
                ['/medicines', <MedicinesPage key="m" />],
                ['/medicines/:code', <MedicinePage key="mm" />],
                ['/messages', <MessagesPage key="ms" />],
                ['/messages/:id', <MessagePage key="msg" />],
                ['/jobs/:id', <JobPage key="j" />],
                ['/audit', <AuditPage key="a" />],
                ['/settings', <SettingsPage key="s" />],
              ] as const
            ).map(([path, element]) => (
              <Route key={path} path={path} element={<SignedIn>{element}</SignedIn>} />
            ))}
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </div>
      <Footer>
        <Footer.Meta>
          <Footer.ListItem href="/docs">Hub API documentation</Footer.ListItem>
          <Footer.ListItem href="/openapi.json">OpenAPI description</Footer.ListItem>
          <Footer.ListItem href="/healthz">Health check</Footer.ListItem>
          <Footer.Copyright>Junction, an open-source NHS integration hub (MIT licence)</Footer.Copyright>
        </Footer.Meta>
      </Footer>
    </>
  );
}

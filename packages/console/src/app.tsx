import { Footer, Header, SkipLink } from 'nhsuk-react-components';
import { lazy, type ReactNode, Suspense } from 'react';
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { ErrorBox } from './components/error-box';
import { RequireAction } from './components/no-access';
import { Page } from './components/page';
import { visibleSections } from './components/sections';
import { principalName, useSession } from './session';

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
                // path, the page's name in a refusal, the actions (any of) it needs, the page
                ['/overview', 'Overview', ['operations.read'], <OverviewPage key="o" />],
                ['/patients', 'Patients', ['patient.search', 'patient.read'], <PatientsPage key="p" />],
                ['/patients/:nhsNumber', 'A patient’s record', ['patient.read'], <PatientPage key="pp" />],
                ['/medicines', 'Medicines', ['medicine.read'], <MedicinesPage key="m" />],
                ['/medicines/:code', 'A medicine', ['medicine.read'], <MedicinePage key="mm" />],
                ['/messages', 'Messages and jobs', ['messages.read', 'jobs.read'], <MessagesPage key="ms" />],
                ['/messages/:id', 'A message', ['messages.read'], <MessagePage key="msg" />],
                ['/jobs/:id', 'A job', ['jobs.read'], <JobPage key="j" />],
                ['/audit', 'Audit', ['audit.read'], <AuditPage key="a" />],
                ['/settings', 'Settings', ['keys.manage', 'operations.read'], <SettingsPage key="s" />],
              ] as const
            ).map(([path, page, actions, element]) => (
              <Route
                key={path}
                path={path}
                element={
                  <SignedIn>
                    <RequireAction page={page} actions={[...actions]}>
                      {element}
                    </RequireAction>
                  </SignedIn>
                }
              />
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

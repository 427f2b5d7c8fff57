import { Button, InsetText, TextInput } from 'nhsuk-react-components';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { type ApiError, api, asApiError } from '../api';
import { ErrorBox, errorProp, FieldErrors } from '../components/error-box';
import { Page } from '../components/page';
import { principalName, useSession } from '../session';

/** Sign in with CIS2 (staff smartcard, through the hub) or with a hub admin account. */
export default function SignInPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<{ field: string; message: string }[]>([]);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const cis2 = `/auth/cis2/login?return_to=${encodeURIComponent(`${window.location.origin}/console/`)}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const missing = [
      ...(username.trim() === '' ? [{ field: 'username', message: 'Enter your username' }] : []),
      ...(password === '' ? [{ field: 'password', message: 'Enter your password' }] : []),
    ];
    setFieldErrors(missing);
    setError(undefined);
    if (missing.length > 0) return;
    setBusy(true);
    try {
      await api('/auth/admin/login', { method: 'POST', body: { username: username.trim(), password } });
      setPassword('');
      await session.refresh();
      navigate('/');
    } catch (e) {
      setError(asApiError(e, '/auth/admin/login'));
    } finally {
      setBusy(false);
    }
  };

  const errorOf = (field: string) => fieldErrors.find((e) => e.field === field)?.message;

  return (
    <Page title="Sign in to the Junction console">
      {session.status === 'signed-in' && session.info && (
        <InsetText>
          <p>
            You are signed in as {principalName(session.info.principal)}.{' '}
            <Link to="/">Continue to the console</Link>
          </p>
        </InsetText>
      )}
      <FieldErrors errors={fieldErrors} />
      <ErrorBox error={error} />
      <h2>Staff with an NHS smartcard</h2>
      <p className="nhsuk-body">
        Sign in with NHS Care Identity Service 2 (CIS2). What you can see follows the role you choose.
      </p>
      <a className="nhsuk-button" href={cis2} draggable="false">
        Sign in with CIS2 (smartcard)
      </a>

      <h2>Hub administrators</h2>
      <p className="nhsuk-body">
        For the people who run this hub: operations, audit, API keys and medicines imports, but no patient
        records.
      </p>
      <form onSubmit={submit} noValidate aria-label="Hub administrator sign in">
        <TextInput
          id="username"
          name="username"
          label="Username"
          autoComplete="username"
          spellCheck={false}
          width={20}
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
          {...errorProp(errorOf('username'))}
        />
        <TextInput
          id="password"
          name="password"
          type="password"
          label="Password"
          autoComplete="current-password"
          width={20}
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          {...errorProp(errorOf('password'))}
        />
        <Button type="submit" secondary disabled={busy}>
          Sign in as administrator
        </Button>
      </form>
    </Page>
  );
}

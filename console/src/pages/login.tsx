// /login: a local account's name and password (POST /api/session), and the
// single sign-on link when the server offers one (GET /api/sso).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, call } from '../api/client';
import { ERROR_MESSAGES, type ErrorCode } from '../../../src/errors.js';
import { signedIn } from '../api/session';
import { Link, navigate, useLocation } from '../router';
import { ErrorAlert } from '../ui/bits';
import { PageHeading } from '../ui/page';

/** Where to go after signing in: the page asked for, when it is one of ours. */
function nextPath(search: URLSearchParams): string {
  const next = search.get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/connectors';
}

/**
 * The catalogue's sentence for the code the single sign-on callback sent
 * back (/login?error=CODE). Only the code is taken from the address, never a
 * text: a link could otherwise make this page say anything.
 */
function ssoMessage(code: string): string {
  return Object.hasOwn(ERROR_MESSAGES, code) ? ERROR_MESSAGES[code as ErrorCode] : 'single sign-on did not complete';
}

export function LoginPage() {
  const client = useQueryClient();
  const { search } = useLocation();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const sso = useQuery({
    queryKey: ['sso'],
    queryFn: () => call(api.GET('/api/sso')),
    staleTime: Infinity,
    retry: false,
  });
  const ssoError = search.get('error');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await call(api.POST('/api/session', { body: { name, password } }));
      signedIn(client, session);
      navigate(nextPath(search), { replace: true });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <div className="card card-form">
      <PageHeading title="Sign in" />
      <p className="lede">Sign in to manage and watch your data connectors.</p>
      {ssoError ? <ErrorAlert error={new ApiError(401, ssoError, ssoMessage(ssoError))} /> : null}
      {error ? <ErrorAlert error={error} /> : null}
      <form onSubmit={(e) => void submit(e)} className="form">
        <div className="field">
          <label htmlFor="login-name">Name</label>
          <input id="login-name" name="username" autoComplete="username" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input id="login-password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            Sign in
          </button>
        </div>
      </form>
      {sso.data?.enabled ? (
        <div className="sso">
          <p className="divider">
            <span>or</span>
          </p>
          <a className="button button-secondary button-block" href={sso.data.startUrl ?? '/auth/oidc/start'}>
            Sign in with {sso.data.label ?? 'single sign-on'}
          </a>
        </div>
      ) : null}
      <p className="card-foot">
        <Link to="/setup">First time? Create the first account</Link>
      </p>
    </div>
  );
}

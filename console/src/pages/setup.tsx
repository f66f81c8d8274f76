// /setup: the first account of a new installation, a connector-admin, made
// with the one-time token `xip serve` printed (POST /api/setup); then signed
// in with it.
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, call } from '../api/client';
import { signedIn } from '../api/session';
import { Link, navigate } from '../router';
import { ErrorAlert } from '../ui/bits';
import { PageHeading } from '../ui/page';

export function SetupPage() {
  const client = useQueryClient();
  const [token, setToken] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(api.POST('/api/setup', { body: { token: token.trim(), name, password } }));
      signedIn(client, await call(api.POST('/api/session', { body: { name, password } })));
      navigate('/connectors', { replace: true });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <div className="card card-form">
      <PageHeading title="Create the first account" />
      <p className="lede">
        A new installation has no account yet. <code>xip serve</code> printed a one-time setup token when it started: paste it here to create the first
        connector administrator.
      </p>
      {error ? <ErrorAlert error={error} /> : null}
      <form onSubmit={(e) => void submit(e)} className="form">
        <div className="field">
          <label htmlFor="setup-token">Setup token</label>
          <input id="setup-token" autoComplete="off" spellCheck={false} required value={token} onChange={(e) => setToken(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="setup-name">Name</label>
          <input id="setup-name" autoComplete="username" required value={name} onChange={(e) => setName(e.target.value)} aria-describedby="setup-name-hint" />
          <p className="hint" id="setup-name-hint">
            Letters, digits, “.”, “_”, “-” or “@”: an email address fits.
          </p>
        </div>
        <div className="field">
          <label htmlFor="setup-password">Password</label>
          <input id="setup-password" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby="setup-password-hint" />
          <p className="hint" id="setup-password-hint">
            At least 12 characters. A passphrase of a few words is easiest to remember.
          </p>
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            Create account
          </button>
        </div>
      </form>
      <p className="card-foot">
        <Link to="/login">Already have an account? Sign in</Link>
      </p>
    </div>
  );
}

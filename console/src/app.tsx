// The console: one page per route (router.tsx), server state through
// TanStack Query, no global store. Pages other than sign-in and setup live
// in the signed-in shell (header, main navigation, sign-out); without a
// session they send the browser to /login, and back after signing in.
import { MutationCache, QueryCache, QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, call } from './api/client';
import { isAdmin, isAuditor, SESSION_KEY, signedOut, useSession, type Session } from './api/session';
import { AuditPage } from './pages/audit';
import { ConnectorPage } from './pages/connector';
import { ConnectorsPage } from './pages/connectors';
import { EvidencePage } from './pages/evidence';
import { LoginPage } from './pages/login';
import { NotFoundPage } from './pages/not-found';
import { RunPage } from './pages/run';
import { SetupPage } from './pages/setup';
import { WizardPage } from './pages/wizard/wizard';
import { Link, match, navigate, useLocation } from './router';
import { ErrorAlert, Loading } from './ui/bits';

function makeClient(): QueryClient {
  // An answer 401 from any request: the session may have expired or been revoked. Ask the server
  // (GET /api/session) rather than assume it: an answer can also be older than a sign-in that followed.
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401 && error.code === 'AUTH_REQUIRED') void client.invalidateQueries({ queryKey: SESSION_KEY });
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        // A refusal (4xx) is an answer, not a hiccup: only faults and lost connections are tried again.
        retry: (count, error) => count < 2 && (!(error instanceof ApiError) || error.status === 0 || error.status >= 500),
        refetchOnWindowFocus: true,
      },
    },
  });
  return client;
}

export function App() {
  const [client] = useState(makeClient);
  return (
    <QueryClientProvider client={client}>
      <Routes />
    </QueryClientProvider>
  );
}

const PUBLIC = new Set(['/login', '/setup']);

function Routes() {
  const { path, href } = useLocation();
  const session = useSession();

  const needsSignIn = !PUBLIC.has(path) && session.data === null;
  useEffect(() => {
    if (needsSignIn) navigate(path === '/' ? '/login' : `/login?next=${encodeURIComponent(href)}`, { replace: true });
  }, [needsSignIn, path, href]);

  if (path === '/login') return <PublicShell><LoginPage /></PublicShell>;
  if (path === '/setup') return <PublicShell><SetupPage /></PublicShell>;
  if (session.isPending) return <PublicShell><Loading what="the console" /></PublicShell>;
  if (session.isError) return <PublicShell><ErrorAlert error={session.error} title="The server could not say who is signed in." /></PublicShell>;
  if (!session.data) return <PublicShell><Loading what="the sign-in page" /></PublicShell>;
  return (
    <SignedInShell session={session.data}>
      <Page path={path} session={session.data} />
    </SignedInShell>
  );
}

function Page({ path, session }: { path: string; session: Session }) {
  if (path === '/' || path === '') {
    return <Redirect to="/connectors" />;
  }
  if (match('/connectors', path)) return <ConnectorsPage />;
  if (match('/connectors/new', path)) return isAdmin(session) ? <WizardPage key="new" /> : <Forbidden what="Adding a connector" />;
  let p = match('/connectors/:name/edit', path);
  if (p) return isAdmin(session) ? <WizardPage key={`edit:${p.name}`} editing={p.name!} /> : <Forbidden what="Editing a connector" />;
  p = match('/connectors/:name', path);
  if (p) return <ConnectorPage key={p.name} name={p.name!} />;
  p = match('/runs/:id', path);
  if (p) return <RunPage key={p.id} id={p.id!} />;
  p = match('/evidence/:sha256', path);
  if (p) return isAuditor(session) ? <EvidencePage key={p.sha256} sha256={p.sha256!} /> : <Forbidden what="The evidence store" />;
  if (match('/audit', path)) return isAuditor(session) ? <AuditPage /> : <Forbidden what="The audit trail" />;
  return <NotFoundPage />;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function Forbidden({ what }: { what: string }) {
  return <NotFoundPage title="Not allowed" message={`${what} is not open to your role.`} />;
}

function Brand() {
  return (
    <span className="brand">
      <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="7" />
        <path d="M9 10l14 12M23 10L9 22" />
      </svg>
      <span className="brand-name">xip-connector</span>
    </span>
  );
}

function SkipLink() {
  return (
    <a className="skip-link" href="#main">
      Skip to content
    </a>
  );
}

function PublicShell({ children }: { children: ReactNode }) {
  return (
    <>
      <SkipLink />
      <header className="site-header">
        <div className="site-header-inner">
          <Brand />
        </div>
      </header>
      <main id="main" className="main main-narrow">
        {children}
      </main>
    </>
  );
}

function SignedInShell({ session, children }: { session: Session; children: ReactNode }) {
  const client = useQueryClient();
  const { path } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const signOut = async () => {
    try {
      await call(api.DELETE('/api/session'));
    } catch (e) {
      // Already signed out on the server: nothing to undo here.
      if (!(e instanceof ApiError && e.status === 401)) {
        setError(e);
        return;
      }
    }
    signedOut(client);
    navigate('/login', { replace: true });
  };
  const current = (prefix: string) => (path === prefix || path.startsWith(`${prefix}/`) ? 'page' : undefined);
  const inConnectors = current('/connectors') ?? (path.startsWith('/runs/') || path.startsWith('/evidence/') ? 'true' : undefined);
  return (
    <>
      <SkipLink />
      <header className="site-header">
        <div className="site-header-inner">
          <Link to="/connectors" className="brand-link" aria-label="xip-connector, home">
            <Brand />
          </Link>
          <nav aria-label="Main" className="main-nav">
            <ul>
              <li>
                <Link to="/connectors" aria-current={inConnectors === 'page' ? 'page' : undefined} className={inConnectors ? 'active' : undefined}>
                  Data connectors
                </Link>
              </li>
              {isAuditor(session) ? (
                <li>
                  <Link to="/audit" aria-current={current('/audit')} className={current('/audit') ? 'active' : undefined}>
                    Audit trail
                  </Link>
                </li>
              ) : null}
            </ul>
          </nav>
          <div className="account">
            <span className="account-who">
              <span className="account-name">{session.name}</span>
              <span className="account-role">{session.role}</span>
            </span>
            <button type="button" className="button button-quiet button-small" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="main">
        {error ? <ErrorAlert error={error} title="Signing out failed." /> : null}
        {children}
      </main>
    </>
  );
}

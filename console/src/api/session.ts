// Who is signed in: GET /api/session, kept by TanStack Query under
// ['session'] (null: no session). Its CSRF token goes to the client for the
// requests that change state.
import { useQuery, type QueryClient } from '@tanstack/react-query';
import { api, ApiError, call, setCsrfToken, type Schemas } from './client';

export type Session = Schemas['Session'];
export type Role = Schemas['Role'];

export const SESSION_KEY = ['session'] as const;

export async function fetchSession(): Promise<Session | null> {
  try {
    const session = await call(api.GET('/api/session'));
    setCsrfToken(session.csrfToken);
    return session;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw e;
  }
}

export function useSession() {
  return useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 60_000 });
}

/** After a sign-in: the answer is the session, no need to ask again. */
export function signedIn(client: QueryClient, session: Session): void {
  setCsrfToken(session.csrfToken);
  client.setQueryData(SESSION_KEY, session);
}

/** After a sign-out, or an answer 401 from any request: everything cached belonged to the session. */
export function signedOut(client: QueryClient): void {
  setCsrfToken(null);
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
  client.setQueryData(SESSION_KEY, null);
}

/** The session of a page rendered inside the signed-in shell (app.tsx renders none without one). */
export function useSignedIn(): Session {
  const { data } = useSession();
  if (!data) throw new Error('useSignedIn outside the signed-in shell');
  return data;
}

export const isAdmin = (s: Session) => s.role === 'connector-admin';
export const isAuditor = (s: Session) => s.role === 'auditor';

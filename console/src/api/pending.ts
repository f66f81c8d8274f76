// The routes of the console contract that are not in the server's OpenAPI
// document (schema.ts) yet, typed by hand from the contract. The one escape
// hatch from the generated client: each goes once its route lands and
// `npm run api:types` has brought it into schema.ts.
import { ApiError, csrfHeaders, errorOf } from './client';

/** GET /api/sso (public): whether single sign-on is offered; a server without it answers 404. */
export interface SsoInfo {
  enabled: boolean;
  label: string | null;
  startUrl: string | null;
}

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers = new Headers({ accept: 'application/json' });
  if (body !== undefined) headers.set('content-type', 'application/json');
  csrfHeaders(method, headers);
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new ApiError(0, 'NETWORK_ERROR', `the server did not answer (${(e as Error).message})`);
  }
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

export const pending = {
  sso: () => send<SsoInfo>('GET', '/api/sso'),
};


// The one way the console talks to the server: openapi-fetch typed by
// schema.ts (generated from the server's OpenAPI document: npm run
// api:types). The session is the HttpOnly cookie the browser sends by
// itself (same origin); every change (POST, PUT, PATCH, DELETE) carries the
// session's CSRF token, kept here from the sign-in answer or GET
// /api/session. Answers that are not 2xx become an ApiError with the
// server's {code, message}.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

let csrfToken: string | null = null;

/** The session's CSRF token (null: signed out). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Adds x-csrf-token to the requests that change state (docs/console.md, CSRF). */
export function csrfHeaders(method: string, headers: Headers): void {
  if (CHANGES.has(method.toUpperCase()) && csrfToken !== null) headers.set('x-csrf-token', csrfToken);
}

const csrf: Middleware = {
  onRequest({ request }) {
    csrfHeaders(request.method, request.headers);
    return request;
  },
};

export const api = createClient<paths>({ credentials: 'same-origin' });
api.use(csrf);

/** An error answer of the API: its HTTP status and the catalogue's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The ApiError of an answer that is not 2xx, from its {code, message} body when it has one. */
export async function errorOf(response: Response, body?: unknown): Promise<ApiError> {
  let parsed = body;
  if (parsed === undefined) parsed = await response.json().catch(() => undefined);
  const e = (parsed ?? {}) as { code?: unknown; message?: unknown };
  return new ApiError(
    response.status,
    typeof e.code === 'string' ? e.code : `HTTP_${response.status}`,
    typeof e.message === 'string' ? e.message : response.statusText || 'the server gave no reason',
  );
}

interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The data of a 2xx answer; anything else thrown as an ApiError. */
export async function call<A extends Answer>(request: Promise<A>): Promise<Exclude<A['data'], undefined>> {
  let answer: A;
  try {
    answer = await request;
  } catch (e) {
    throw new ApiError(0, 'NETWORK_ERROR', `the server did not answer (${(e as Error).message})`);
  }
  if (!answer.response.ok) throw await errorOf(answer.response, answer.error);
  return answer.data as Exclude<A['data'], undefined>;
}

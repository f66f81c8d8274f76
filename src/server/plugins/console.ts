// The built console (dist/console/, made by Vite from console/) served by
// the same process as the API, with node:fs streams only:
//
//   /assets/*      Vite's output, named by their content's hash: long-lived
//                  and immutable in caches
//   /favicon.svg…  other files at the top of the build (Vite's public/):
//                  revalidated each time (no-cache), their names do not
//                  change; a name with an extension is a file or a 404
//   any other GET  that accepts text/html, outside /api, /auth, /metrics,
//                  /healthz, /openapi.json, /docs and /assets: index.html
//                  (no-store), the console's own router shows the page — or
//                  503 text/plain when the console was not built
//
// The last two answer from the 404 handler (plugins/errors.ts: PageFallback),
// so that the API keeps its own (401 without a session for unknown /api
// URLs) and a page load is not counted as a probe by its rate limit.
// A path from a URL becomes a file only once resolved inside the build's
// folder, and only a regular file (not a link, not a folder) is sent.
import { createReadStream, existsSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XipError } from '../../errors.js';
import type { PageFallback } from './errors.js';

/** Where the server's own routes are: never the console's pages. */
export const RESERVED_PREFIXES = ['/api', '/auth', '/metrics', '/healthz', '/openapi.json', '/docs', '/assets'] as const;

export const NOT_BUILT = 'the console is not built: run npm run build\n';
export const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** A file name at the top of the build, as a URL may name one: no folder, no leading dot. */
const TOP_LEVEL_FILE = /^\/([A-Za-z0-9_-][A-Za-z0-9._-]*\.[A-Za-z0-9]+)$/;

/** The installed package's root: the nearest folder at or above the module `fromUrl` (import.meta.url) holding a package.json. */
export function packageRoot(fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(fromUrl)}`);
    dir = up;
  }
  return dir;
}

function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? request.url : request.url.slice(0, q);
}

function isReserved(path: string): boolean {
  return RESERVED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

function acceptsHtml(request: FastifyRequest): boolean {
  return /\btext\/html\b/i.test(request.headers.accept ?? '');
}

/** `relative` resolved inside `root`, or undefined when it would leave it (or holds a NUL). */
function inside(root: string, relative: string): string | undefined {
  if (relative.includes('\0')) return undefined;
  const full = resolve(root, relative);
  return full.startsWith(root + sep) ? full : undefined;
}

/** The size of a regular file at `path` (not a link, not a folder), or undefined. */
async function regularFile(path: string): Promise<number | undefined> {
  try {
    const st = await lstat(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined; // ENOENT, ENOTDIR, EACCES: no such file to serve
  }
}

function send(reply: FastifyReply, path: string, size: number, cache: string): FastifyReply {
  return reply
    .type(TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream')
    .header('content-length', size)
    .header('cache-control', cache)
    .send(createReadStream(path));
}

/** Serves /assets/* and returns the 404 handler's fallback for the console's pages and top-level files. */
export function useConsole(app: FastifyInstance, options: { readonly dir: string }): PageFallback {
  const root = resolve(options.dir);
  const assets = join(root, 'assets');

  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const relative = (request.params as { '*': string })['*'];
    const path = inside(assets, relative);
    const size = path === undefined ? undefined : await regularFile(path);
    if (path === undefined || size === undefined) throw new XipError('NOT_FOUND');
    return send(reply, path, size, IMMUTABLE);
  });

  return {
    isPage: (request) => request.method === 'GET' && !isReserved(pathOf(request)) && !TOP_LEVEL_FILE.test(pathOf(request)) && acceptsHtml(request),
    async serve(request, reply) {
      const path = pathOf(request);
      if (request.method !== 'GET' || isReserved(path)) return undefined;
      // A file name (with an extension) at the top is a file or nothing: never the page.
      const name = TOP_LEVEL_FILE.exec(path)?.[1];
      if (name !== undefined) {
        const size = name === 'index.html' ? undefined : await regularFile(join(root, name));
        return size === undefined ? undefined : send(reply, join(root, name), size, 'no-cache');
      }
      if (!acceptsHtml(request)) return undefined;
      const index = join(root, 'index.html');
      const size = await regularFile(index);
      if (size === undefined) return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      return send(reply, index, size, 'no-store');
    },
  };
}

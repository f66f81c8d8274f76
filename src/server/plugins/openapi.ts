// The OpenAPI document, made from the routes' zod schemas by @fastify/swagger
// with fastify-type-provider-zod's transform: served at /openapi.json (what
// the console's client is typed from) and browsable at /docs
// (@fastify/swagger-ui, its own strict CSP with hashes for its scripts).
// Each operation carries `x-xip-access` (its config.access: public, or the
// roles allowed) and its security requirement: the session cookie, plus the
// CSRF header for state-changing ones.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { changesState, isPublic, PUBLIC, type Access } from '../access.js';
import { CSRF_HEADER } from './csrf.js';
import { SESSION_COOKIE } from './auth.js';

export const API_VERSION = '1';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

function transform(input: TransformInput) {
  const out = jsonSchemaTransform(input);
  const schema = out.schema as Record<string, unknown> | undefined;
  if (!schema || schema.hide) return out;
  const access = (input.route.config as { access?: Access } | undefined)?.access;
  const methods = ([] as string[]).concat(input.route.method);
  const security = !access || isPublic(access) ? [] : methods.some(changesState) ? [{ session: [], csrf: [] }] : [{ session: [] }];
  return { ...out, schema: { ...schema, security, 'x-xip-access': access ?? null } };
}

export async function useOpenapi(app: FastifyInstance, options: { secure: boolean }): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'xip-connector',
        description: 'The JSON API of xip serve: connectors, their runs and logs, the audit trail. Sign in with POST /api/session; send the csrfToken it returns as the x-csrf-token header of every state-changing request.',
        version: API_VERSION,
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER },
        },
      },
    },
    transform,
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Over plain HTTP, upgrade-insecure-requests would send the page's own requests to an https:// that is not there.
    transformStaticCSP: (header) => (options.secure ? header : header.replace(/\s*upgrade-insecure-requests;?/, '')),
    uiConfig: { deepLinking: false },
  });

  app.get(
    '/openapi.json',
    { config: { access: PUBLIC }, schema: { tags: ['operations'], summary: 'This document', response: { 200: z.record(z.string(), z.unknown()) } } },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
}

// The API's view of single sign-on (GET /api/sso), for the console's sign-in
// page; in the OpenAPI document like every other answer.
import { z } from 'zod';

export const ssoInfo = z
  .object({
    enabled: z.boolean().describe('Whether xip serve was started with --oidc-issuer'),
    label: z.string().nullable().describe('What the sign-in button names: "Sign in with {label}" (--oidc-label)'),
    startUrl: z.string().nullable().describe('Where the button goes: a browser navigation (not a fetch) to this path starts the sign-in at the identity provider'),
  })
  .meta({ id: 'SingleSignOn' });

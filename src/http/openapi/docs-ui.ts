/**
 * GET /docs: an interactive reference of the OpenAPI document (Swagger UI), served from the
 * assets shipped in the @fastify/swagger-ui package. The page loads nothing from any other origin
 * (no CDN, web font or validator badge), so it works offline; the Content-Security-Policy below
 * makes the browser refuse anything else. Its routes are hidden from the OpenAPI document.
 */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const DOCS_PREFIX = '/docs';

/** Every UI route: /docs, /docs/static/*, /docs/json, /docs/yaml. */
export function isDocsRoute(url: string): boolean {
  return url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`);
}

/**
 * Same origin only. data: images are the logo; "Try it out" calls this server (connect-src);
 * Swagger UI sets inline styles (React), which load nothing.
 */
const CONTENT_SECURITY_POLICY = {
  'default-src': "'self'",
  'base-uri': "'self'",
  'connect-src': "'self'",
  'font-src': "'self' data:",
  'form-action': "'self'",
  'frame-ancestors': "'self'",
  'img-src': "'self' data:",
  'object-src': "'none'",
  'script-src': "'self'",
  'script-src-attr': "'none'",
  'style-src': "'self' 'unsafe-inline'",
};

export async function registerDocsUi(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    // null in the page: Swagger UI would otherwise load a badge from validator.swagger.io.
    validatorUrl: false,
    staticCSP: CONTENT_SECURITY_POLICY,
    theme: { title: 'ovation API reference' },
    uiConfig: {
      docExpansion: 'list',
      deepLinking: true,
      displayRequestDuration: true,
    },
  });
}

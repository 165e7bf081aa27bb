/**
 * The OpenAPI document is generated from the same route schemas that validate requests, so it
 * cannot drift from the code. Errors are documented once as problem+json on every route.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { Problem as ProblemSchema } from '../schemas';
import { isDocsRoute, registerDocsUi } from './docs-ui';

const problemResponse = {
  description: 'application/problem+json with a stable `code` (see the API contract for the codes per status)',
  content: { 'application/problem+json': { schema: ProblemSchema } },
};

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ovation',
        version: '1.0.0',
        description:
          'Actor-model reservation engine for concert ticketing. Every error is application/problem+json ' +
          'with a stable `code`; unknown request fields are rejected with 400 VALIDATION_FAILED.',
      },
      components: {
        securitySchemes: {
          adminKey: { type: 'apiKey', in: 'header', name: 'X-Admin-Key' },
          queueToken: { type: 'apiKey', in: 'header', name: 'Queue-Token' },
        },
      },
    },
    hideUntagged: false,
    transform: ({ schema, url }) => {
      if (url === '/openapi.json' || url === '/openapi.yaml' || isDocsRoute(url)) {
        return { schema: { hide: true } as never, url };
      }
      const response = { ...(schema?.response as object), '4XX': problemResponse, '5XX': problemResponse };
      return { schema: { ...schema, response }, url };
    },
  });
  // GET /docs renders the document above; its routes are hidden from it.
  await registerDocsUi(app);
}

export function openApiRoutes(app: FastifyInstance): void {
  app.get('/openapi.json', async () => app.swagger());
  app.get('/openapi.yaml', async (_request, reply) => reply.type('application/yaml').send(app.swagger({ yaml: true })));
}

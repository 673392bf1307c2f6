/** `/asyncapi.json`: the event stream's AsyncAPI 3 document (events/asyncapi.ts), built once. */
import { createRequire } from 'node:module';
import { asyncApiDocument } from '../../events/asyncapi.js';
import { createRouter } from '../router.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Serves the document; open like `/openapi.json`. */
export function asyncApiRouter() {
  const router = createRouter();
  const document = asyncApiDocument(version);
  router.get('/asyncapi.json', (c) => c.json(document));
  return router;
}

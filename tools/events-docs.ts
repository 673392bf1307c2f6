/** `npm run events:docs`: renders the AsyncAPI document's event catalog into docs/EVENTS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PROJECT_ROOT } from '../core/config.js';
import { asyncApiDocument } from '../events/asyncapi.js';
import { eventCatalogMarkdown, withEventCatalog } from '../events/asyncapi-markdown.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const file = path.join(PROJECT_ROOT, 'docs', 'EVENTS.md');
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Events\n';
writeFileSync(file, withEventCatalog(current, eventCatalogMarkdown(asyncApiDocument(version))));
console.log(`wrote the event catalog into ${path.relative(PROJECT_ROOT, file)}`);

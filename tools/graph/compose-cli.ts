/**
 * `npm run graph:compose`: writes graph/supergraph.graphql from the subgraphs' schemas. With `--check` (CI) it
 * writes nothing and fails when the committed file is not what composition gives now (a subgraph's schema changed
 * without recomposing) or when the subgraphs do not compose.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeSupergraph } from '../../graph/compose.js';
import { SUPERGRAPH_PATH } from '../../graph/subgraphs.js';

const check = process.argv.includes('--check');
const composed = composeSupergraph();
if ('errors' in composed) {
  process.stderr.write(
    `The subgraphs do not compose:\n${composed.errors.map((e) => `  - ${e}`).join('\n')}\n`,
  );
  process.exit(1);
}
const relative = path.relative(process.cwd(), SUPERGRAPH_PATH);
if (check) {
  let committed = '';
  try {
    committed = readFileSync(SUPERGRAPH_PATH, 'utf8');
  } catch {
    // missing: reported below as out of date
  }
  if (committed !== composed.sdl) {
    process.stderr.write(
      `${relative} is not what the subgraphs compose to: run \`npm run graph:compose\` and commit the result.\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`${relative} is up to date\n`);
} else {
  writeFileSync(SUPERGRAPH_PATH, composed.sdl);
  process.stdout.write(`wrote ${relative}\n`);
}

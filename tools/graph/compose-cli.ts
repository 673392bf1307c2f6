/**
 * `npm run graph:compose`: writes graph/supergraph.graphql from the subgraphs' schemas (graph/subgraphs/*.graphql).
 * `npm run graph:check` (CI) writes nothing and fails when the committed file is not what composition gives now
 * (a subgraph's schema changed without recomposing) or when the subgraphs do not compose. `--subgraphs <dir>` and
 * `--supergraph <file>` point it at other files (tests).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { composeSupergraph } from '../../graph/compose.js';
import { SUPERGRAPH_PATH, subgraphSdl } from '../../graph/subgraphs.js';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    subgraphs: { type: 'string' },
    supergraph: { type: 'string', default: SUPERGRAPH_PATH },
  },
});
const dir = args.subgraphs;
const composed = composeSupergraph(
  dir ? (name) => readFileSync(path.join(dir, `${name}.graphql`), 'utf8') : subgraphSdl,
);
if ('errors' in composed) {
  process.stderr.write(
    `The subgraphs do not compose:\n${composed.errors.map((e) => `  - ${e}`).join('\n')}\n`,
  );
  process.exit(1);
}
const target = args.supergraph;
const relative = path.relative(process.cwd(), target);
if (args.check) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
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
  writeFileSync(target, composed.sdl);
  process.stdout.write(`wrote ${relative}\n`);
}

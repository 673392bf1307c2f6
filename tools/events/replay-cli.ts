/**
 * `npm run events:replay -- --consumer <durable> (--since <time> | --from-seq <n> | --new) [--filter <subject>]...
 * [--dry-run] [--force]`: (re)starts a consumer of ORDER_EVENTS from a stream position (./replay.ts).
 */
import { connectFromEnvironment, runTool } from './connect.js';
import { parseReplayArgs, REPLAY_USAGE, replayConsumer, replayReport } from './replay.js';

runTool(REPLAY_USAGE, async () => {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(REPLAY_USAGE);
    return 0;
  }
  const request = parseReplayArgs(argv);
  const connection = await connectFromEnvironment('events-replay');
  try {
    const outcome = await replayConsumer(connection.jsm, request);
    for (const line of replayReport(outcome, request.dryRun)) console.log(line);
    return outcome.plan.refusal ? 1 : 0;
  } finally {
    await connection.close();
  }
});

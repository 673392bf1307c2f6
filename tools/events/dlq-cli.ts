/**
 * `npm run events:dlq -- list | show <seq> | redrive <seq|--all> | purge <seq|--all>`: inspects, re-drives or
 * deletes the dead letters of ORDER_EVENTS_DLQ (./dlq-command.ts).
 */
import { connectFromEnvironment, runTool } from './connect.js';
import { DLQ_USAGE, parseDlqArgs, runDlqCommand } from './dlq-command.js';

runTool(DLQ_USAGE, async () => {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(DLQ_USAGE);
    return 0;
  }
  const command = parseDlqArgs(argv);
  const connection = await connectFromEnvironment('events-dlq');
  try {
    return await runDlqCommand(connection, command, (line) => console.log(line));
  } finally {
    await connection.close();
  }
});

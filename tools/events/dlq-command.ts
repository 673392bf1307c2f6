/** The command line of `npm run events:dlq` (list, show, redrive, purge) and what each command prints. */
import { parseArgs } from 'node:util';
import { DEAD_LETTER_STREAM, ORDER_EVENTS_STREAM } from '../../contracts/events.js';
import { deadLetterSubject } from '../../events/streams.js';
import { type JetStreamAccess, UsageError } from './connect.js';
import {
  type DeadLetterSelection,
  getDeadLetter,
  letterColumns,
  letterDetails,
  letterLine,
  listDeadLetters,
  purgeDeadLetters,
  redriveDeadLetters,
} from './dead-letters.js';

/** The usage text of `events:dlq`. */
export const DLQ_USAGE = `usage: npm run events:dlq -- <command>

  list [--consumer <durable>] [--limit 20]   dead letters, oldest first: sequence, time, consumer,
                                             original subject, deliveries, reason
  show <seq>                                 one dead letter's headers and body
  redrive (<seq> ... | --all [--consumer X]) publish the original event again to its subject on
                                             ${ORDER_EVENTS_STREAM}, then delete the dead letter
  purge (<seq> ... | --all [--consumer X])   delete dead letters (asks nothing; prints what it deleted)`;

/** One parsed command. */
export type DlqCommand =
  | { kind: 'list'; consumer?: string; limit: number }
  | { kind: 'show'; seq: number }
  | { kind: 'redrive' | 'purge'; selection: DeadLetterSelection };

const DEFAULT_LIMIT = 20;

function sequenceOf(text: string): number {
  const seq = Number(text);
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new UsageError(`"${text}" is not a dead letter's sequence`);
  return seq;
}

/** Parses the arguments after `npm run events:dlq --`. */
export function parseDlqArgs(argv: string[]): DlqCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [kind, ...rest] = positionals;
  const consumer = values.consumer;
  if (consumer) deadLetterSubject(consumer, 'events.x'); // a durable's name is a subject token
  switch (kind) {
    case 'list': {
      if (rest.length > 0 || values.all) throw new UsageError('list takes only --consumer and --limit');
      const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError('--limit must be 1 or more');
      return { kind, limit, ...(consumer ? { consumer } : {}) };
    }
    case 'show': {
      if (rest.length !== 1 || values.all || consumer) throw new UsageError('show takes one sequence');
      return { kind, seq: sequenceOf(rest[0] as string) };
    }
    case 'redrive':
    case 'purge': {
      if (values.all) {
        if (rest.length > 0) throw new UsageError(`${kind} takes sequences or --all, not both`);
        return { kind, selection: { all: true, ...(consumer ? { consumer } : {}) } };
      }
      if (rest.length === 0) throw new UsageError(`${kind} needs a sequence or --all`);
      if (consumer)
        throw new UsageError('--consumer narrows --all; a sequence already names one dead letter');
      return { kind, selection: { seqs: rest.map(sequenceOf) } };
    }
    default:
      throw new UsageError(kind ? `unknown command "${kind}"` : 'a command is required');
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      consumer: { type: 'string' },
      limit: { type: 'string' },
      all: { type: 'boolean' },
    },
  });
}

const LIST_HEADINGS = ['seq', 'time', 'consumer', 'original subject', 'deliveries', 'reason'];

/** Rows under headings, each column as wide as its widest cell (the last one left as it is). */
function table(headings: string[], rows: string[][]): string[] {
  const widths = headings.map((heading, i) =>
    Math.max(heading.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headings), ...rows.map(line)];
}

const DEDUPE_NOTE =
  'every consumer of those subjects receives them again and dedupes by event id through its inbox: one that ' +
  'handled the event meanwhile (or never failed on it) has no second effect';

/** Runs one command, printing through `print`; resolves with the exit code. */
export async function runDlqCommand(
  access: JetStreamAccess,
  command: DlqCommand,
  print: (line: string) => void,
): Promise<number> {
  switch (command.kind) {
    case 'list': {
      const { letters, total } = await listDeadLetters(access, command);
      const whose = command.consumer ? ` of consumer ${command.consumer}` : '';
      if (total === 0) {
        print(`no dead letters${whose} in ${DEAD_LETTER_STREAM}`);
        return 0;
      }
      print(`${total} dead letter(s)${whose} in ${DEAD_LETTER_STREAM}, oldest first:`);
      for (const line of table(LIST_HEADINGS, letters.map(letterColumns))) print(line);
      if (letters.length < total) print(`showing ${letters.length} of ${total}; --limit ${total} shows all`);
      return 0;
    }
    case 'show': {
      for (const line of letterDetails(await getDeadLetter(access.jsm, command.seq))) print(line);
      return 0;
    }
    case 'redrive': {
      const done = await redriveDeadLetters(access, command.selection);
      for (const { letter, seq, msgID, duplicate } of done) {
        print(
          `re-drove ${letter.seq} to ${letter.originalSubject} as ${ORDER_EVENTS_STREAM} sequence ${seq} ` +
            `(Nats-Msg-Id ${msgID}${duplicate ? ', published by an earlier re-drive' : ''}); ` +
            `deleted it from ${DEAD_LETTER_STREAM}`,
        );
        if (!letter.eventId)
          print(`  warning: its body is not an event; its consumers will dead-letter it again`);
      }
      print(done.length === 0 ? 'no dead letters to re-drive' : `${done.length} re-driven; ${DEDUPE_NOTE}`);
      return 0;
    }
    case 'purge': {
      const deleted = await purgeDeadLetters(access, command.selection);
      for (const letter of deleted) print(`deleted ${letterLine(letter)}`);
      print(`${deleted.length} dead letter(s) deleted from ${DEAD_LETTER_STREAM}`);
      return 0;
    }
  }
}

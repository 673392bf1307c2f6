/**
 * What leaves an activity when the database fails. Temporal stores an activity's failure (message, stack trace,
 * cause chain) in the workflow history, and drizzle's errors carry the query's parameters ("Failed query: ...
 * params: cust-42,..."), as do the drivers' own errors (a rejected value quoted in the message, a `Key (...)=(...)`
 * detail, postgres.js's `parameters`). So every database error is replaced by one that names only what is safe: the
 * SQLSTATE, the constraint, the table and column; never a value. Data exceptions (SQLSTATE class 22) no retry can
 * fix become non-retryable InvalidData failures; every other database error stays retryable.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { wrapActivities } from './wrap-activities.js';

/** Failure type of an activity whose input the database can never store (e.g. an integer out of range). */
export const INVALID_DATA = 'InvalidData';

/** What is known of a database error without any value: every field is an identifier or a code. */
export interface DatabaseErrorInfo {
  /** SQLSTATE (`22003`), or the driver's error code for errors the server never answered (`ECONNREFUSED`). */
  code?: string;
  constraint?: string;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  /** The statement's verb (`insert`, `update`, ...), from the query text. */
  operation?: string;
}

/** A database error with its values taken out; retryable (Temporal sees an error of type `DatabaseError`). */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  constructor(
    message: string,
    readonly info: DatabaseErrorInfo,
  ) {
    super(message);
  }
}

/** Meaning of the SQLSTATEs an activity is likely to meet (the server's own message may quote the value). */
// Stryker disable StringLiteral: wording for operators; the tests check the meanings real errors of theirs produce.
const SQLSTATE_MEANING: Record<string, string> = {
  '22001': 'value too long',
  '22003': 'numeric value out of range',
  '22007': 'invalid datetime format',
  '22008': 'datetime field overflow',
  '22012': 'division by zero',
  '22P02': 'invalid text representation',
  '22P05': 'untranslatable character',
  '22021': 'invalid byte sequence',
  '23502': 'not-null violation',
  '23503': 'foreign key violation',
  '23505': 'unique violation',
  '23514': 'check violation',
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '53300': 'too many connections',
  '57014': 'query canceled',
  '57P01': 'server shutting down',
};
// Stryker restore StringLiteral

/** SQLSTATE classes (no class starts with E, unlike errno codes such as EPIPE). */
const SQLSTATE = /^[0-9A-DF-Z][0-9A-Z]{4}$/;
/** A driver or system error code: an identifier, never data. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;
/** Identifiers the server reports (table, column, constraint names); anything else is dropped. */
const IDENTIFIER = /^[\p{L}_][\p{L}\p{N}_$]{0,62}$/u;

/** What a server error names besides its SQLSTATE. */
const SERVER_FIELDS = ['constraint', 'schema', 'table', 'column', 'dataType'] as const;
// Stryker disable StringLiteral,ObjectLiteral: postgres.js's names; the Postgres run of the tests checks them (this one is PGlite).
const POSTGRES_JS_FIELDS: Record<(typeof SERVER_FIELDS)[number], string> = {
  constraint: 'constraint_name',
  schema: 'schema_name',
  table: 'table_name',
  column: 'column_name',
  dataType: 'data type_name',
};
// Stryker restore StringLiteral,ObjectLiteral

type ErrorFields = Record<string, unknown>;

const field = (error: ErrorFields, ...names: string[]): string | undefined => {
  for (const name of names) {
    const value = error[name];
    if (typeof value === 'string' && IDENTIFIER.test(value)) return value;
  }
  return undefined;
};

/** The errors of a cause chain, outermost first. */
function chainOf(error: unknown): ErrorFields[] {
  const chain: ErrorFields[] = [];
  // Stryker disable next-line ConditionalExpression,LogicalOperator: a primitive has no code or query to match.
  for (let current = error; current && typeof current === 'object' && chain.length < 10; ) {
    // Stryker disable next-line ConditionalExpression: a cycle also ends at the bound, with the same errors found.
    if (chain.includes(current as ErrorFields)) break;
    chain.push(current as ErrorFields);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The table a statement works on, from its text (drizzle quotes it: `insert into "orders"."orders"`). */
function statementTarget(query: string): Pick<DatabaseErrorInfo, 'operation' | 'schema' | 'table'> {
  const match =
    // Stryker disable next-line Regex: drizzle writes its statements without leading blanks, one space between words.
    /^\s*(?:with\b[\s\S]*?\)\s*)?(insert\s+into|update|delete\s+from|select\b[\s\S]*?\bfrom)\s+(?:"([^"]+)"\.)?"([^"]+)"/i.exec(
      query,
    );
  if (!match) return {};
  // Stryker disable next-line all: the verb group always matched (drizzle puts one space in `insert into`).
  const operation = (match[1] ?? '').split(/\s+/)[0]?.toLowerCase();
  const schema = match[2] && IDENTIFIER.test(match[2]) ? match[2] : undefined;
  const table = match[3] && IDENTIFIER.test(match[3]) ? match[3] : undefined;
  return { ...(operation ? { operation } : {}), ...(schema ? { schema } : {}), ...(table ? { table } : {}) };
}

/** drizzle's wrapper of a failed query (by class, or by shape if another copy of drizzle made it). */
function isQueryError(error: ErrorFields): error is ErrorFields & { query: string } {
  return (
    error instanceof DrizzleQueryError ||
    (typeof error.query === 'string' &&
      'params' in error &&
      typeof error.message === 'string' &&
      error.message.startsWith('Failed query:'))
  );
}

/**
 * What a database error says without values, or undefined when `error` is not a database error (its chain holds
 * no drizzle query error and no error with a SQLSTATE).
 */
export function databaseErrorInfo(error: unknown): DatabaseErrorInfo | undefined {
  const chain = chainOf(error);
  const query = chain.find(isQueryError);
  // Stryker disable next-line ConditionalExpression: `test` reads a missing code as "undefined", which is no SQLSTATE.
  const server = chain.find((e) => typeof e.code === 'string' && SQLSTATE.test(e.code));
  if (!query && !server) return undefined;
  const info: DatabaseErrorInfo = query ? statementTarget(query.query) : {};
  if (server) {
    info.code = server.code as string;
    for (const key of SERVER_FIELDS) {
      // postgres.js names the fields `*_name`, PGlite (pg-protocol) as the key.
      const value = field(server, POSTGRES_JS_FIELDS[key], key);
      if (value !== undefined) info[key] = value;
    }
  } else {
    // The server never answered (connection refused, closed, timed out): the driver's code, if it is one.
    // Stryker disable next-line ConditionalExpression: `test` reads a missing code as "undefined", which is no code.
    const coded = chain.find((e) => typeof e.code === 'string' && ERROR_CODE.test(e.code));
    if (coded) info.code = coded.code as string;
  }
  return info;
}

/** One line naming everything known and safe: `insert on orders.orders failed: SQLSTATE 22003 (...), column ...`. */
export function describeDatabaseError(activity: string, info: DatabaseErrorInfo): string {
  const table = info.table ? (info.schema ? `${info.schema}.${info.table}` : info.table) : undefined;
  // A statement the parser could not read (raw SQL, unquoted names) is still a query on the table the server named.
  const what = [info.operation ?? 'query', table ? `on ${table}` : undefined].filter(Boolean).join(' ');
  const code = info.code
    ? SQLSTATE.test(info.code)
      ? `SQLSTATE ${info.code}${SQLSTATE_MEANING[info.code] ? ` (${SQLSTATE_MEANING[info.code]})` : ''}`
      : info.code
    : 'no SQLSTATE';
  const where = [
    info.column ? `column ${info.column}` : undefined,
    info.dataType ? `type ${info.dataType}` : undefined,
    info.constraint ? `constraint ${info.constraint}` : undefined,
  ].filter(Boolean);
  return `${activity}: database ${what} failed: ${code}${where.length ? `, ${where.join(', ')}` : ''}`;
}

/** The stack frames of `error` under a new first line (frames name code locations, never values). */
function framesUnder(headline: string, error: unknown): string {
  const stack = (error as { stack?: unknown }).stack;
  const frames = typeof stack === 'string' ? stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  return [headline, ...frames].join('\n');
}

/** The failure an activity throws for a database error: its values gone, retryable unless it is bad data. */
export function sanitizedDatabaseFailure(activity: string, error: unknown): Error | undefined {
  const info = databaseErrorInfo(error);
  if (!info) return undefined;
  const message = describeDatabaseError(activity, info);
  if (info.code?.startsWith('22')) {
    const failure = ApplicationFailure.create({
      type: INVALID_DATA,
      nonRetryable: true,
      message: `${message}: the database rejected the data`,
      details: [info],
    });
    failure.stack = framesUnder(`ApplicationFailure: ${failure.message}`, error);
    return failure;
  }
  const failure = new DatabaseError(message, info);
  failure.stack = framesUnder(`DatabaseError: ${message}`, error);
  return failure;
}

/**
 * Wraps every activity so a database error leaves it without the query's values, and a data exception fails at once
 * instead of retrying forever. Other errors pass through unchanged; so does an ApplicationFailure the activity
 * built itself, except that a database error in its cause chain is replaced.
 */
export function withDataErrorsNonRetryable<T extends object>(activities: T): T {
  return wrapActivities(activities, (name, activity) => async (...args) => {
    try {
      return await activity(...args);
    } catch (error) {
      if (error instanceof ApplicationFailure) {
        const cause = error.cause && sanitizedDatabaseFailure(name, error.cause);
        if (!cause) throw error;
        throw ApplicationFailure.create({
          message: error.message,
          cause,
          ...(error.type ? { type: error.type } : {}),
          ...(error.nonRetryable ? { nonRetryable: true } : {}),
          ...(error.details ? { details: [...error.details] } : {}),
          ...(error.nextRetryDelay ? { nextRetryDelay: error.nextRetryDelay } : {}),
          ...(error.category ? { category: error.category } : {}),
        });
      }
      throw sanitizedDatabaseFailure(name, error) ?? error;
    }
  });
}

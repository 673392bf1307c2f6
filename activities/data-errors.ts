/** Turns database errors that no retry can fix (bad data, SQLSTATE class 22) into non-retryable failures. */
import { ApplicationFailure } from '@temporalio/activity';
import { wrapActivities } from './wrap-activities.js';

/** Failure type of an activity whose input the database can never store (e.g. an integer out of range). */
export const INVALID_DATA = 'InvalidData';

/** SQLSTATE of an error from postgres.js or PGlite, looking through drizzle's wrapping. */
function sqlState(error: unknown): string | undefined {
  for (
    let current = error;
    current && typeof current === 'object';
    current = (current as { cause?: unknown }).cause
  ) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    if ((current as { cause?: unknown }).cause === current) break;
  }
  return undefined;
}

/** Wraps every activity so a data exception fails at once instead of retrying forever; other errors pass through. */
export function withDataErrorsNonRetryable<T extends object>(activities: T): T {
  return wrapActivities(activities, (name, activity) => async (...args) => {
    try {
      return await activity(...args);
    } catch (error) {
      const state = sqlState(error);
      if (state?.startsWith('22')) {
        throw ApplicationFailure.create({
          type: INVALID_DATA,
          nonRetryable: true,
          message: `${name}: the database rejected the data (SQLSTATE ${state}): ${(error as Error).message}`,
          cause: error as Error,
        });
      }
      throw error;
    }
  });
}

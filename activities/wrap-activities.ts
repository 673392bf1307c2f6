/** Applies the same wrapper to every activity function of an object (fault injection, error mapping, ...). */

/** An activity as the wrappers see it. */
export type ActivityFn = (...args: unknown[]) => Promise<unknown>;

/** Returns a copy of `activities` whose functions are replaced by `wrap(name, fn)`; other values are kept. */
export function wrapActivities<T extends object>(
  activities: T,
  wrap: (name: string, activity: ActivityFn) => ActivityFn,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(activities)) {
    wrapped[name] = typeof value === 'function' ? wrap(name, value as ActivityFn) : value;
  }
  return wrapped as T;
}

/** Compares metric families with the series a known order mix must produce (samples from /metrics or Prometheus). */
import type { Sample } from '../../harness/prometheus-text.js';
import type { ExpectedSeries } from './mix.js';

/** A stable key for a label set restricted to `keys`. */
export function labelKey(labels: Record<string, string>, keys: readonly string[]): string {
  return keys.map((key) => `${key}="${labels[key] ?? ''}"`).join(',');
}

/** Label keys of a family as the expected series use them. */
export function familyLabelKeys(expected: readonly ExpectedSeries[], name: string): string[] {
  return [...new Set(expected.filter((s) => s.name === name).flatMap((s) => Object.keys(s.labels)))].sort();
}

/** What a family must hold: value by label key (`service="payments",outcome="success"` → 4). */
export function expectedFamily(expected: readonly ExpectedSeries[], name: string): Record<string, number> {
  const keys = familyLabelKeys(expected, name);
  return Object.fromEntries(
    expected.filter((s) => s.name === name).map((s) => [labelKey(s.labels, keys), s.value]),
  );
}

/**
 * What a family holds, keyed like `expectedFamily` and summed over labels outside the expected ones (job,
 * instance, le): every expected key (0 when missing), and when `exhaustive` every other non-zero series too.
 */
export function actualFamily(
  expected: readonly ExpectedSeries[],
  actual: readonly Sample[],
  name: string,
  exhaustive = true,
): Record<string, number> {
  const keys = familyLabelKeys(expected, name);
  const sums = new Map<string, number>();
  for (const sample of actual.filter((s) => s.name === name)) {
    const key = labelKey(sample.labels, keys);
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  const family: Record<string, number> = {};
  for (const key of Object.keys(expectedFamily(expected, name))) family[key] = sums.get(key) ?? 0;
  for (const [key, value] of exhaustive ? sums : []) if (!(key in family) && value !== 0) family[key] = value;
  return family;
}

/** Differences between what a family must hold and what it holds (see `actualFamily`); empty when they match. */
export function compareFamily(
  expected: readonly ExpectedSeries[],
  actual: readonly Sample[],
  name: string,
  exhaustive = true,
): string[] {
  const want = expectedFamily(expected, name);
  const got = actualFamily(expected, actual, name, exhaustive);
  return Object.entries(got).flatMap(([key, value]) => {
    const wanted = want[key];
    if (wanted === undefined) return [`${name}{${key}} = ${value}, expected no such series`];
    return value === wanted ? [] : [`${name}{${key}} = ${value}, expected ${wanted}`];
  });
}

/** Every difference between the expected series and the samples, family by family; empty when they match. */
export function compareSeries(
  expected: readonly ExpectedSeries[],
  actual: readonly Sample[],
  exhaustive = true,
): string[] {
  const names = [...new Set(expected.map((s) => s.name))];
  return names.flatMap((name) => compareFamily(expected, actual, name, exhaustive));
}

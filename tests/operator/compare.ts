/** Reads Prometheus text exposition and compares metric families with the series a known order mix must produce. */
import type { ExpectedSeries } from './mix.js';

/** One sample: metric name, labels, value. */
export type Sample = ExpectedSeries;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (comments skipped, label values unescaped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = LINE.exec(line.trim());
    if (!match) continue;
    const [, name = '', rawLabels = '', value = ''] = match;
    const labels: Record<string, string> = {};
    for (const [, key = '', raw = ''] of rawLabels.matchAll(LABEL)) {
      labels[key] = raw.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

/** A stable key for a label set restricted to `keys`. */
export function labelKey(labels: Record<string, string>, keys: readonly string[]): string {
  return keys.map((key) => `${key}="${labels[key] ?? ''}"`).join(',');
}

/** Label keys of a family as the expected series use them. */
export function familyLabelKeys(expected: readonly ExpectedSeries[], name: string): string[] {
  return [...new Set(expected.filter((s) => s.name === name).flatMap((s) => Object.keys(s.labels)))].sort();
}

/**
 * Differences between what a family must hold and what it holds, summed over labels outside the expected ones
 * (job, instance, le): a missing series, a wrong value, or (when `exhaustive`) a non-zero series not expected.
 */
export function compareFamily(
  expected: readonly ExpectedSeries[],
  actual: readonly Sample[],
  name: string,
  exhaustive = true,
): string[] {
  const keys = familyLabelKeys(expected, name);
  const sums = new Map<string, number>();
  for (const sample of actual.filter((s) => s.name === name)) {
    const key = labelKey(sample.labels, keys);
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  const problems: string[] = [];
  for (const want of expected.filter((s) => s.name === name)) {
    const key = labelKey(want.labels, keys);
    const got = sums.get(key) ?? 0;
    if (got !== want.value) problems.push(`${name}{${key}} = ${got}, expected ${want.value}`);
    sums.delete(key);
  }
  for (const [key, got] of exhaustive ? sums : []) {
    if (got !== 0) problems.push(`${name}{${key}} = ${got}, expected no such series`);
  }
  return problems;
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

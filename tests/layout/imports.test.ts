/**
 * The folder layout as rules on imports (docs/ARCHITECTURE.md): the product never imports the harness, tools or
 * tests; the harness serves tests and tools and imports neither; nothing outside tests/ imports tests/; workflow
 * code imports only the workflow SDK, contracts and itself (it must stay deterministic).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../core/config.js';

const PRODUCT = [
  'contracts',
  'workflows',
  'activities',
  'workers',
  'api',
  'db',
  'core',
  'events',
  'consumers',
];
const FOLDERS = [...PRODUCT, 'bin', 'harness', 'tools', 'tests'];

/** Every source file of a top-level folder, as paths relative to the project root. */
function sourcesOf(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(PROJECT_ROOT, dir))) {
      const rel = path.join(dir, name);
      if (name === 'node_modules' || name === 'histories') continue;
      if (statSync(path.join(PROJECT_ROOT, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|mts|mjs|cjs)$/.test(name)) found.push(rel);
    }
  };
  walk(folder);
  return found;
}

/** What a file imports: relative specifiers resolved to the top-level folder they land in, and package names. */
function importsOf(file: string): { folders: string[]; packages: string[] } {
  const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map(
    (m) => m[1] as string,
  );
  const folders: string[] = [];
  const packages: string[] = [];
  for (const spec of specifiers) {
    if (spec.startsWith('.')) {
      const target = path.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, path.dirname(file), spec));
      folders.push(target.split(path.sep)[0] as string);
    } else packages.push(spec);
  }
  return { folders, packages };
}

/** `file -> folder` for every import of `from` into one of `forbidden`. */
function crossings(from: readonly string[], forbidden: readonly string[]): string[] {
  return from.flatMap((folder) =>
    sourcesOf(folder).flatMap((file) =>
      importsOf(file)
        .folders.filter((target) => forbidden.includes(target) && target !== folder)
        .map((target) => `${file} -> ${target}/`),
    ),
  );
}

describe('folder layout', () => {
  it('finds the sources it checks (a rule over no files proves nothing)', () => {
    for (const folder of FOLDERS) expect(sourcesOf(folder).length, folder).toBeGreaterThan(0);
    expect(importsOf('harness/system.ts').folders).toContain('api');
  });

  it('the product imports no harness, tool, test or entry point', () => {
    expect(crossings(PRODUCT, ['bin', 'harness', 'tools', 'tests'])).toEqual([]);
  });

  it('the harness imports neither tests nor tools nor entry points', () => {
    expect(crossings(['harness'], ['tests', 'tools', 'bin'])).toEqual([]);
  });

  it('nothing outside tests/ imports tests/', () => {
    expect(crossings([...PRODUCT, 'bin', 'harness', 'tools'], ['tests'])).toEqual([]);
  });

  it('workflow code imports only @temporalio/workflow, contracts/ and workflows/', () => {
    // Temporal's OpenTelemetry workflow interceptors are written for the sandbox; only the module that gates them.
    const sandboxPackages: Record<string, string[]> = {
      'workflows/tracing-interceptors.ts': ['@temporalio/interceptors-opentelemetry/lib/workflow/index.js'],
    };
    const outside = sourcesOf('workflows').flatMap((file) => {
      const { folders, packages } = importsOf(file);
      const allowed = ['@temporalio/workflow', ...(sandboxPackages[file] ?? [])];
      return [
        ...folders.filter((f) => f !== 'workflows' && f !== 'contracts').map((f) => `${file} -> ${f}/`),
        ...packages.filter((p) => !allowed.includes(p)).map((p) => `${file} -> ${p}`),
      ];
    });
    expect(outside).toEqual([]);
  });
});

/**
 * The test run's global setup, plus what a mutation run needs: Temporal runs workflow code in a `node:vm` context
 * whose `globalThis` is not this process's, so the bundle gets a prologue that makes `__stryker__` there an accessor
 * for this process's (the namespace Stryker's instrumented code reads the active mutant from, and writes coverage
 * to). It reaches this process's global through the context's Function constructor, which only works with
 * TEMPORAL_DEBUG=1 (workflows in this thread, not a worker thread). A getter, not a copy: the SDK freezes the
 * sandbox's globals once the bundle is loaded, and a frozen copy would stop Stryker recording coverage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import setup from '../support/global-setup.js';

const PROLOGUE = `(function () {
  var host, local;
  try { host = globalThis.constructor.constructor('return globalThis')(); } catch (e) {}
  Object.defineProperty(globalThis, '__stryker__', {
    configurable: true,
    enumerable: false,
    get: function () { return (host && host.__stryker__) || local || (local = {}); },
    set: function (value) { local = value; },
  });
})();
`;

export default async function mutationSetup(project: TestProject) {
  const teardown = await setup(project);
  const bundlePath = project.getProvidedContext().workflowBundlePath;
  writeFileSync(bundlePath, PROLOGUE + readFileSync(bundlePath, 'utf8'));
  return teardown;
}

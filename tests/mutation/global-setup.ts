/**
 * The test run's global setup, plus what a mutation run needs: Temporal runs workflow code in a `node:vm` context
 * whose `globalThis` is not this process's, so the bundle gets a prologue that makes `__stryker__` there a view of
 * this process's (the namespace Stryker's instrumented code reads the active mutant from, and writes coverage to). It
 * reaches this process's global through the context's Function constructor, which only works with TEMPORAL_DEBUG=1
 * (workflows in this thread, not a worker thread). The view is a Proxy on a frozen empty object, each read and write
 * forwarded: the SDK deep-freezes every global of the context once the bundle is loaded and swaps their descriptors
 * per workflow, so an accessor property breaks its swap (a TypeError in every activation) and a plain copy would be
 * frozen, stopping Stryker from recording coverage; an object that is already frozen is left as it is.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import setup from '../support/global-setup.js';

const PROLOGUE = `(function () {
  var host;
  try { host = globalThis.constructor.constructor('return globalThis')(); } catch (e) {}
  if (!host || host === globalThis) return;
  var namespace = function () { return host.__stryker__ || (host.__stryker__ = {}); };
  var view = new Proxy(Object.freeze({}), {
    get: function (_, key) { return namespace()[key]; },
    set: function (_, key, value) { namespace()[key] = value; return true; },
    has: function (_, key) { return key in namespace(); },
    deleteProperty: function (_, key) { return delete namespace()[key]; },
  });
  Object.defineProperty(globalThis, '__stryker__', { value: view, writable: true, configurable: true, enumerable: false });
})();
`;

export default async function mutationSetup(project: TestProject) {
  const teardown = await setup(project);
  const bundlePath = project.getProvidedContext().workflowBundlePath;
  writeFileSync(bundlePath, PROLOGUE + readFileSync(bundlePath, 'utf8'));
  return teardown;
}

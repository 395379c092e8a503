import { afterAll, beforeAll, beforeEach, inject, vi } from 'vitest';

/**
 * Setup file of vitest.stryker.config.ts (mutation testing only; Stryker's own setup runs
 * first). It makes Stryker see what tests built in describe() bodies, which many of ours do
 * (a chart rendered once per file, asserted by each test).
 *
 * 1. Fresh modules for every test file: the config turns vitest's per-file isolation off (a new
 *    worker per file re-imports cdk8s and friends: seconds per file per mutant), so the module
 *    registry is reset here instead. node_modules stay loaded; src/ and the test helpers (and
 *    their caches) are evaluated anew.
 * 2. Dry run: code run while the file is collected, and in its beforeAll hooks, is credited to
 *    every test of the file (Stryker would count it as "static": run by no test, so no test
 *    would run for it). src/ is loaded once first to tell module-level code apart, which stays
 *    static (ignoreStatic); then the registry is reset so the file's own vi.mock() calls apply.
 * 3. Mutant runs: the mutant is active from here on, not only from Stryker's beforeAll, so what
 *    the file builds while it is collected is built by the mutated code. The hit limit (the
 *    infinite-loop guard, calibrated on the tests' own hits) is lifted until the tests start.
 */
/** @typedef {Record<string, number>} Hits */
/** @typedef {{ activeMutant?: unknown, currentTestId?: string, hitCount?: number, hitLimit?: number, mutantCoverage?: { static: Hits, perTest: Record<string, Hits> } }} Namespace */

vi.resetModules();

/** @type {(name: string) => unknown} */
const key = inject;
const name = key('globalNamespace'); // undefined when vitest runs without Stryker
/** @type {Namespace} */
const ns = typeof name === 'string' ? (globalThis[name] ??= {}) : {};

if (key('mode') === 'dry-run') {
  // Module-level code: what loading src/ runs. It stays static. The registry is reset again so
  // the test file loads src/ itself (and its vi.mock() calls apply).
  const loaded = { ...(ns.mutantCoverage?.static ?? {}) };
  const modules = import.meta.glob(['../../src/**/*.ts', '!../../src/main.ts']);
  for (const load of Object.values(modules)) await load();
  /** @type {Hits} */
  const before = { ...(ns.mutantCoverage?.static ?? {}) };
  const moduleLevel = new Set(Object.keys(before).filter((id) => before[id] !== loaded[id]));
  vi.resetModules();
  /** @type {string[] | undefined} */
  let collected;
  beforeEach(() => {
    const cov = ns.mutantCoverage;
    if (!cov) return;
    // First test of the file: what ran since the modules were loaded (describe bodies and the
    // file's beforeAll hooks) is moved from "static" to each test of the file.
    if (!collected) {
      collected = [];
      for (const [id, hits] of Object.entries(cov.static)) {
        if (moduleLevel.has(id)) continue;
        const during = hits - (before[id] ?? 0);
        if (during <= 0) continue;
        collected.push(id);
        if (hits === during) delete cov.static[id];
        else cov.static[id] = hits - during;
      }
    }
    if (!ns.currentTestId || !collected.length) return;
    const mine = (cov.perTest[ns.currentTestId] ??= {});
    for (const id of collected) mine[id] = (mine[id] ?? 0) + 1;
  });
} else if (key('mode') === 'mutant') {
  const hitLimit = ns.hitLimit;
  ns.hitLimit = undefined;
  ns.activeMutant = key('activeMutant');
  beforeAll(() => {
    ns.hitCount = 0;
    ns.hitLimit = hitLimit;
  });
  afterAll(() => {
    ns.activeMutant = undefined;
  });
}

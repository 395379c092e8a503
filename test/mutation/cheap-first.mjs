import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer } from 'vitest/node';

// Test-file order for mutation testing (vitest.stryker.config.ts). Stryker stops a mutant's run
// at its first failing test, so cheap files go first: vitest's default (slowest first) would
// start every mutant with the few files that take seconds. Those, listed here, go last.
const EXPENSIVE_LAST = [
  'test/docs/',
  'test/output/real-output.test.ts',
  'test/config/catalogue.test.ts',
  'test/settings/settings.test.ts',
];

export default class CheapFirst extends BaseSequencer {
  async sort(files) {
    const root = this.ctx.config.root;
    const rank = (spec) => {
      const path = relative(root, spec.moduleId);
      const i = EXPENSIVE_LAST.findIndex((p) => path.startsWith(p));
      return [i < 0 ? -1 : i, statSync(spec.moduleId).size];
    };
    return [...files].sort((a, b) => {
      const [ra, sa] = rank(a);
      const [rb, sb] = rank(b);
      return ra - rb || sa - sb;
    });
  }
}

// vitest globalSetup of the integration-postfix-3.10 project: builds the Postfix 3.10 root once
// per run (skipped when the cache already holds the current recipe's), before any worker starts.
// It never throws: a root that cannot be built is recorded, and each real-Postfix suite then
// skips loudly (locally) or fails (CI) through requireTool('postfix', ...), with the reason.
import { ensurePostfixRoot, isCI } from './generation';

export default function setup(): void {
  try {
    const status = ensurePostfixRoot((message) => console.log(message));
    if (status.ok) console.log(`postfix-root: the integration-postfix-3.10 project runs Postfix ${status.version} from ${status.root}`);
  } catch (err) {
    const message = `*** The Postfix 3.10 test root could not be built: ${(err as Error).message}`;
    console.warn(`\n${message}\n*** ${isCI() ? 'Every real-Postfix suite of integration-postfix-3.10 FAILS (CI).' : 'The real-Postfix suites of integration-postfix-3.10 SKIP.'}\n`);
  }
}

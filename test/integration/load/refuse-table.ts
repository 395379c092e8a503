import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentConfig } from '../../../src/config/schema';
import { DRAIN_REFUSE_RESTRICTION, DRAIN_REFUSE_TABLE } from '../../../src/postfix/drain';
import { mainCfEntries, renderMainCf } from '../../../src/postfix/main-cf';
import { sleep, type PostfixInstance } from '../harness';

/**
 * The drain refuses new mail through a table that main.cf must consult and the entrypoint must
 * create (both requested from the Postfix helper, docs/RELIABILITY.md). Until the rendered files
 * do both, tests that drain add exactly that line and that file, so the refusal is still tested
 * on the real Postfix; once they do, these helpers change nothing.
 */

export function mainCfConsultsRefuseTable(env: EnvironmentConfig): boolean {
  return renderMainCf(env).includes(DRAIN_REFUSE_TABLE);
}

/**
 * main.cf overrides for startPostfix: when the rendered main.cf lacks it, the refuse restriction
 * goes first in smtpd_client_restrictions (before permit_mynetworks, which would end the list).
 */
export function refuseTableOverride(env: EnvironmentConfig): Record<string, string> {
  if (mainCfConsultsRefuseTable(env)) return {};
  const rendered = mainCfEntries(env).find(([name]) => name === 'smtpd_client_restrictions')?.[1];
  return { smtpd_client_restrictions: rendered ? `${DRAIN_REFUSE_RESTRICTION}, ${rendered}` : DRAIN_REFUSE_RESTRICTION };
}

/** Creates the empty table (owned by postfix) when the entrypoint did not, and reloads so smtpd opens it. */
export async function ensureRefuseTable(pf: PostfixInstance): Promise<void> {
  const table = join(pf.dataDir, DRAIN_REFUSE_TABLE);
  if (existsSync(table)) return;
  writeFileSync(table, '');
  const uid = Number(/^postfix:[^:]*:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))?.[1]);
  chownSync(table, uid, 0);
  execFileSync('postfix', ['-c', pf.configDir, 'reload'], { stdio: 'ignore' });
  await sleep(500);
}

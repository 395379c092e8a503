/**
 * Issue 14: postfix.extraMainCf lands in main.cf and Postfix takes it: `postfix check` stays
 * clean and the relay starts without a single warning, with every feature of this issue on at
 * once (relay.auth, port 465, sender rewriting, header privacy) so their parameters are checked
 * together; `postconf` reads the extra values back as set.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { preparePostfix, requireTool, stopAllPostfix, tempDir, type PreparedInstance } from './harness';
import { postfixGeneration } from './harness/generation';
import { authTestOverrides, secretVolume } from './support/secret-volume';
import { parsePostconf } from '../../scripts/postconf-parameters';
import { renderMasterCf } from '../../src/postfix/master-cf';
import { POSTCONF_PARAMETERS, POSTCONF_VERSION } from '../../src/postfix/postconf-parameters';
import { loadEnvironmentFile } from '../../src/config/load';
import { environmentVariant } from './support/env-variant';
import { expectCleanStart } from './support/clean-start';

const ready = requireTool('postfix', 'postfix');

const EXTRA = { header_size_limit: 204800, smtputf8_enable: false, delay_warning_time: '4h', smtp_connection_cache_time_limit: '$smtp_connect_timeout' };
const env = environmentVariant('environments/prod.yaml', 'prod-everything', {
  relay: { port: 465, auth: { secretName: 'gmail-relay' } },
  mail: {
    allowedSenderDomains: ['bionicaisolutions.com', 'apps.bionicaisolutions.com'],
    rewrite: { senders: [{ from: '@apps.bionicaisolutions.com', to: 'relay@bionicaisolutions.com' }], masqueradeDomains: ['bionicaisolutions.com'] },
    stripReceivedHeaders: 'relay',
  },
  postfix: { extraMainCf: EXTRA },
});

describe.skipIf(!ready)('postfix.extraMainCf with every feature of issue 14 on', () => {
  const dir = tempDir();
  const vol = secretVolume(join(dir, 'secret'), { username: 'relay@bionicaisolutions.com', password: 'app-password' });
  const overrides = authTestOverrides(env, vol.dir, join(dir, 'sasl'));
  const prepared: PreparedInstance[] = [];
  afterAll(async () => {
    await stopAllPostfix();
    for (const p of prepared) rmSync(p.dir, { recursive: true, force: true });
  });

  it('passes `postfix check` without a warning', async () => {
    const p = await preparePostfix({ env, ...overrides });
    prepared.push(p);
    expect(p.files['main.cf']).toMatch(/\nheader_size_limit = 204800\nsmtputf8_enable = no\ndelay_warning_time = 4h\nsmtp_connection_cache_time_limit = \$smtp_connect_timeout\n/);
    for (const d of [p.queueDir, p.dataDir, p.logDir]) mkdirSync(d, { mode: 0o755 });
    chownSync(p.dataDir, Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' })), 0);
    chmodSync(p.dataDir, 0o700);
    const r = spawnSync('postfix', ['-c', join(p.configDir, '..data'), 'check'], { encoding: 'utf8' });
    const log = existsSync(p.logFile) ? readFileSync(p.logFile, 'utf8') : '';
    expect(r.status, `${r.stderr}\n${log}`).toBe(0);
    expect(`${r.stderr}${log}`).not.toMatch(/warning|fatal|error/i);
    const n = spawnSync('postconf', ['-c', join(p.configDir, '..data'), '-h', 'header_size_limit', 'smtputf8_enable', 'delay_warning_time'], { encoding: 'utf8' });
    expect(n.stderr).toBe('');
    expect(n.stdout.trim().split('\n')).toEqual(['204800', 'no', '4h']);
    const x = spawnSync('postconf', ['-c', join(p.configDir, '..data'), '-x', '-h', 'smtp_connection_cache_time_limit'], { encoding: 'utf8' });
    expect(x.stdout.trim()).toBe(spawnSync('postconf', ['-c', join(p.configDir, '..data'), '-x', '-h', 'smtp_connect_timeout'], { encoding: 'utf8' }).stdout.trim());
  });

  it('the check can tell: a name Postfix does not know (past the schema) is a warning', async () => {
    const p = await preparePostfix({ env, ...overrides, editFiles: (f) => ({ ...f, 'main.cf': `${f['main.cf']}header_size_limt = 1\n` }) });
    prepared.push(p);
    const r = spawnSync('postconf', ['-c', join(p.configDir, '..data'), '-n'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/warning: .*unused parameter: header_size_limt=1/);
  });

  it.runIf(postfixGeneration() === '3.10')('the committed postconf -d list is the live one of the Postfix 3.10 under test', () => {
    // What scripts/postconf-parameters.ts runs, on the harness' 3.10 root: a stale list fails here.
    const cfg = tempDir('postconf-d-');
    writeFileSync(join(cfg, 'main.cf'), '');
    writeFileSync(join(cfg, 'master.cf'), renderMasterCf(loadEnvironmentFile('environments/prod.yaml')));
    const live = parsePostconf(execFileSync('postconf', ['-c', cfg, '-d'], { encoding: 'utf8' }));
    expect(live.version).toBe(POSTCONF_VERSION);
    expect(live.names).toEqual([...POSTCONF_PARAMETERS]);
  });

  it('starts through entrypoint.sh without a single warning', async () => {
    await expectCleanStart({ env, ...overrides });
  });
});

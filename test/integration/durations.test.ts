/**
 * The duration bounds of the schema are the real programs' bounds (issue 16, item 14):
 * - queue.maximalQueueLifetime reaches main.cf: the longest value the schema accepts (100d) runs
 *   on the real Postfix (qmgr stays up), and one second more makes qmgr die at start, so no mail
 *   would ever leave the queue. The value the schema used to accept, 99999999999999d, too.
 * - serviceMonitor and alert durations reach Prometheus: every value the schema accepts passes
 *   the real promtool; the syntax and range the schema refuses, promtool refuses as well; a scrape
 *   timeout above the interval fails `promtool check config`, as the schema says.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duration, queueLifetime } from '../../src/config/formats';
import { parseEnvironment } from '../../src/config/load';
import { parseMainCf } from '../../src/policy/main-cf';
import { CONFIG_FILES } from '../../src/postfix/layout';
import { BASE } from '../config/catalogue.cases';
import { descendants, isRunning, requireTool, sleep, startPostfix, stopAllPostfix, tempDir, waitFor } from './harness';

const envWith = (maximalQueueLifetime: string) =>
  parseEnvironment({ ...structuredClone(BASE), queue: { maximalQueueLifetime } }, 'environments/durations.yaml');

/** The qmgr process of a running master, if one runs. */
function qmgrPid(master: number | undefined): number | undefined {
  if (!master) return undefined;
  return descendants(master).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'qmgr';
    } catch {
      return false;
    }
  });
}

describe.skipIf(!requireTool('postfix', 'postfix'))('queue.maximalQueueLifetime on the real Postfix', () => {
  afterAll(() => stopAllPostfix());

  it.each([
    ['100d', '100d'],
    ['99d23h59m59s', '8639999s'],
  ])('%s (accepted by the schema) is rendered as %s and qmgr runs with it', async (value, rendered) => {
    expect(queueLifetime.safeParse(value).success).toBe(true);
    const env = envWith(value);
    const pf = await startPostfix({ env });
    expect(parseMainCf(readFileSync(join(pf.configDir, CONFIG_FILES.mainCf), 'utf8')).get('maximal_queue_lifetime')).toBe(rendered);
    const qmgr = await waitFor('qmgr to start', () => qmgrPid(pf.masterPid()), { timeoutMs: 10_000 });
    await sleep(1500); // qmgr reads its parameters at start and dies at once on a bad one
    expect(isRunning(qmgr), pf.log()).toBe(true);
    expect(pf.log()).not.toMatch(/fatal/);
    await pf.stop();
  });

  it.each([
    ['100d1s', '8640001s', /fatal: invalid maximal_queue_lifetime: 8640001 \(max 8640000\)/],
    ['99999999999999d', '99999999999999d', /fatal: parameter maximal_queue_lifetime: bad time value or unit: 99999999999999d/],
  ])('%s (refused by the schema) makes qmgr die at start', async (value, inMainCf, fatal) => {
    expect(queueLifetime.safeParse(value).success).toBe(false);
    // The schema refuses it, so the value is put into the rendered main.cf by hand.
    const pf = await startPostfix({ env: envWith('5d'), mainCf: { maximal_queue_lifetime: inMainCf } });
    await pf.waitForLog(fatal, 15_000);
    await pf.stop();
  });
});

describe.skipIf(!requireTool('promtool', 'prometheus'))('Prometheus durations under the real promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('durations-promtool-');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const promtool = (args: string[]) => spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  const checkFor = (value: string) => {
    const file = join(dir, 'rules.yml');
    writeFileSync(file, `groups:\n- name: g\n  rules:\n  - alert: A\n    expr: vector(1)\n    for: ${value}\n`);
    return promtool(['check', 'rules', file]);
  };

  it.each(['30s', '5m', '1h30m', '500ms', '5d', '1d2h3m4s5ms', '106751d23h47m16s854ms'])('%s: the schema and promtool accept it', (value) => {
    expect(duration.safeParse(value).success).toBe(true);
    const r = checkFor(value);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it.each(['5m1h', '1s1s', '1ms1s', '5 m', '1.5h', '106751d23h47m16s855ms', '99999999999999d'])('%s: the schema and promtool refuse it', (value) => {
    expect(duration.safeParse(value).success).toBe(false);
    const r = checkFor(value);
    expect(r.status, r.stdout + r.stderr).not.toBe(0);
  });

  it('a scrape timeout above the interval: refused by the schema and by promtool check config', () => {
    const env = (scrapeTimeout: string) => () =>
      parseEnvironment({ ...structuredClone(BASE), serviceMonitor: { interval: '15s', scrapeTimeout } }, 'environments/durations.yaml');
    expect(env('15s')).not.toThrow();
    expect(env('20s')).toThrow(/serviceMonitor.scrapeTimeout: 20s is longer than serviceMonitor.interval \(15s\)/);
    const check = (timeout: string) => {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, `scrape_configs:\n- job_name: relay\n  scrape_interval: 15s\n  scrape_timeout: ${timeout}\n  static_configs: [{targets: ["127.0.0.1:9154"]}]\n`);
      return promtool(['check', 'config', file]);
    };
    expect(check('15s').status).toBe(0);
    const refused = check('20s');
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/scrape timeout greater than scrape interval/);
  });
});

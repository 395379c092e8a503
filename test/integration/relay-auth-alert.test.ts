/**
 * Issue 14: the alert on refused SMTP AUTH logins, under the real promtool. It exists only with
 * relay.auth; `promtool test rules` proves that it fires on the DSNs a refused login is logged
 * with (4.7.8 is what the real-Postfix test in relay-auth.test.ts sees for 535 5.7.8), waits its
 * `for:`, and ignores TLS failures, relay denials and other namespaces. Every other alert of the
 * environment is tested alongside, so adding this one broke none of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlertRule, renderRuleGroups } from '../../src/monitoring';
import { requireTool } from './harness/tools';
import { environmentVariant } from './support/env-variant';
import { buildScenarios } from '../monitoring/support/promtool-scenarios';
import { promtool, writePromtoolFiles } from '../monitoring/support/promtool-tests';

const ready = requireTool('promtool', 'prometheus');
const ALERT = 'PostfixRelayAuthFailed';

describe.skipIf(!ready)(`${ALERT} under promtool`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-alert-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = environmentVariant('environments/prod.yaml', 'prod-auth', { relay: { auth: { secretName: 'gmail-relay' } } });
  const groups = renderRuleGroups(env);

  it('exists only with relay.auth', () => {
    const names = (g: typeof groups) => g.flatMap((x) => x.rules.filter(isAlertRule).map((r) => r.alert));
    expect(names(groups)).toContain(ALERT);
    expect(names(renderRuleGroups(environmentVariant('environments/prod.yaml', 'prod', {})))).not.toContain(ALERT);
  });

  it('passes promtool check rules and promtool test rules, with every other alert of the environment', () => {
    const scenarios = buildScenarios(env);
    expect(scenarios.filter((s) => s.alert === ALERT).length).toBeGreaterThanOrEqual(5);
    const { rulesPath, testsPath } = writePromtoolFiles(dir, env.name, groups, scenarios);
    const check = promtool(['check', 'rules', rulesPath], dir);
    expect(check.status, check.output).toBe(0);
    const test = promtool(['test', 'rules', testsPath], dir);
    expect(test.status, test.output).toBe(0);
    expect(test.output).toContain('SUCCESS');
  });

  it('the tests notice a rule that misses the soft-bounced 4.7.8', () => {
    const broken = groups.map((g) => ({ ...g, rules: g.rules.map((r) => (isAlertRule(r) && r.alert === ALERT ? { ...r, expr: r.expr.split('(8|9|14)').join('(9|14)') } : r)) }));
    const { testsPath } = writePromtoolFiles(dir, `${env.name}-broken`, broken, buildScenarios(env).filter((s) => s.alert === ALERT));
    const r = promtool(['test', 'rules', testsPath], dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(ALERT);
  });
});

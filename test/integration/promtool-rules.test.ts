/**
 * The alert rules checked and unit-tested by the real promtool (Prometheus 2.42 here), for every
 * environment: `promtool check rules` on each environment's groups (and on the dashboard's
 * queries), and `promtool test rules` proving for every alert that it fires above its threshold,
 * stays silent at and below it, and waits for its `for:`. A changed threshold or a renamed metric
 * makes the tests fail. Also: the rules evaluated on the Hsn723 fixture.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { isAlertRule, POD_NAME_REGEX, renderDashboard, renderRuleGroups, TARGETS } from '../../src/monitoring';
import { requireTool } from './harness/tools';
import { buildScenarios } from '../monitoring/support/promtool-scenarios';
import { promtool, writePromtoolFiles } from '../monitoring/support/promtool-tests';
import { dashboardExprs } from '../monitoring/support/queries';
import { parseExposition } from '../monitoring/support/exposition';

const FIXTURE = 'test/fixtures/hsn723-metrics.txt';

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const ready = requireTool('promtool', 'prometheus');

describe.skipIf(!ready)('alert rules under promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'email-server-promtool-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.each(ENVIRONMENTS)('%s', (name) => {
    const env = loadEnvironmentFile(`environments/${name}.yaml`);
    const groups = renderRuleGroups(env);
    // The SLO burn-rate alerts have their own scenarios (slo-rules.test.ts): they carry an `slo` label.
    const alertNames = groups.flatMap((g) => g.rules.filter(isAlertRule).filter((r) => r.labels.slo === undefined).map((r) => r.alert));

    it('passes promtool check rules', () => {
      const { rulesPath } = writePromtoolFiles(dir, name, groups, []);
      const r = promtool(['check', 'rules', rulesPath], dir);
      expect(r.output).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
      expect(r.status, r.output).toBe(0);
    });

    it('has, for every alert, a scenario that fires, one that stays pending before for:, and silent checks', () => {
      const scenarios = buildScenarios(env);
      for (const alert of alertNames) {
        const checks = scenarios.filter((s) => s.alert === alert).flatMap((s) => s.checks);
        expect(checks.some((c) => c.firing.length > 0), `${alert} fires somewhere`).toBe(true);
        expect(checks.some((c) => c.firing.length === 0 && (c.pending?.length ?? 0) > 0), `${alert} pending before for:`).toBe(true);
        expect(checks.some((c) => c.firing.length === 0 && c.pending?.length === 0), `${alert} silent`).toBe(true);
      }
      expect(new Set(scenarios.map((s) => s.alert))).toEqual(new Set(alertNames));
    });

    it('has dashboard queries that promtool parses (checked as recording rules)', () => {
      const exprs = dashboardExprs(renderDashboard(env));
      const path = join(dir, `${name}.dashboard-rules.yaml`);
      const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: expr.split('$pod').join(POD_NAME_REGEX) }));
      writeFileSync(path, stringify({ groups: [{ name: 'dashboard', rules }] }));
      const r = promtool(['check', 'rules', path], dir);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain(`SUCCESS: ${exprs.length} rules found`);
    });

    it('passes promtool test rules for every alert', () => {
      const { testsPath } = writePromtoolFiles(dir, name, groups, buildScenarios(env));
      const r = promtool(['test', 'rules', testsPath], dir);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain('SUCCESS');
    });
  });

  describe('the tests notice a change', () => {
    const prod = loadEnvironmentFile('environments/prod.yaml');
    const with_ = (alerts: Partial<EnvironmentConfig['alerts']>): EnvironmentConfig => ({ ...prod, alerts: { ...prod.alerts, ...alerts } });

    /** Rules rendered from `changed`, tested against the expectations of prod.yaml. */
    const runAgainstProdExpectations = (label: string, groups: ReturnType<typeof renderRuleGroups>, alert?: string) => {
      const scenarios = buildScenarios(prod).filter((s) => alert === undefined || s.alert === alert);
      const { testsPath } = writePromtoolFiles(dir, label, groups, scenarios);
      return promtool(['test', 'rules', testsPath], dir);
    };

    it.each([
      ['alerts.queueSize', { queueSize: prod.alerts.queueSize + 1 }, 'PostfixRelayHighQueue'],
      ['alerts.bounceRatePerSecond', { bounceRatePerSecond: prod.alerts.bounceRatePerSecond * 2 }, 'PostfixRelayHighBounceRate'],
      ['alerts.memoryLimitRatio', { memoryLimitRatio: 0.95 }, 'PostfixRelayMemoryNearLimit'],
      ['alerts.cpuThrottleRatio', { cpuThrottleRatio: 0.5 }, 'PostfixRelayCpuThrottled'],
      ['alerts.for', { for: '10m' }, 'PostfixRelayHighQueue'],
      ['alerts.oldestMessageAgeSeconds', { oldestMessageAgeSeconds: 7200 }, 'PostfixRelayQueueStale'],
    ] as const)('a changed %s fails the tests written for the old value', (_field, change, alert) => {
      const r = runAgainstProdExpectations(`changed-${alert}`, renderRuleGroups(with_(change)), alert);
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(alert);
    });

    it.each([
      ['postfix_showq_message_size_bytes_count', 'postfix_showq_queue_depth', 'PostfixRelayHighQueue'],
      ['postfix_smtp_messages_processed_total', 'postfix_smtp_messages_total', 'PostfixRelayHighBounceRate'],
      ['postfix_smtp_bounced_messages_by_dsn_total', 'postfix_smtp_bounced_total', 'PostfixRelayDenied'],
      ['container_memory_working_set_bytes', 'container_memory_usage_bytes', 'PostfixRelayMemoryNearLimit'],
      ['job="postfix-relay-metrics"', 'job="postfix-relay"', 'PostfixRelayDown'],
    ])('a metric or selector renamed in the rules (%s -> %s) fails the tests', (from, to, alert) => {
      const groups = renderRuleGroups(prod).map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: r.expr.split(from).join(to) })) }));
      const r = runAgainstProdExpectations(`renamed-${alert}`, groups, alert);
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(alert);
    });

    it('promtool check rules rejects a broken expression (the check is real)', () => {
      const groups = renderRuleGroups(prod);
      const { rulesPath } = writePromtoolFiles(dir, 'broken', groups, []);
      writeFileSync(rulesPath, readFileSync(rulesPath, 'utf8').replace('> 0.9', '> > 0.9'));
      const r = promtool(['check', 'rules', rulesPath], dir);
      expect(r.status).not.toBe(0);
    });
  });
});

describe.skipIf(!ready)('the Hsn723 fixture under promtool', () => {
  const text = readFileSync(FIXTURE, 'utf8');
  const samples = parseExposition(text);
  const prod = loadEnvironmentFile('environments/prod.yaml');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hsn723-fixture-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is valid exposition text (promtool only lints upstream names)', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim());
    expect(problems).toEqual(['postfix_smtp_status_deferred counter metrics should have "_total" suffix']);
  });

  it('makes the rules fire for its incident: stale queue, 4.2.1, 4.7.5 and 5.7.0, nothing else from the exporter', () => {
    const pod = { namespace: prod.namespace, job: TARGETS.metricsService, pod: 'postfix-relay-0', instance: '10.0.0.1:8080' };
    const appear = 15;
    const minutes = 40;
    const series = (name: string, labels: Record<string, string>) =>
      `${name}{${Object.entries(labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}}`;
    // The exporter's counters appear at minute 15 (a first scrape after events), the target is up all along.
    const input = [
      { series: series('up', pod), values: Array(minutes).fill(1).join(' ') },
      ...samples.map((s) => ({
        series: series(s.name, { ...s.labels, ...pod }),
        values: [...Array(appear).fill('_'), ...Array(minutes - appear).fill(s.value === Infinity ? '+Inf' : s.value)].join(' '),
      })),
    ];
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: renderRuleGroups(prod) }));
    // Counted events fire for the 10 minutes after they appear; the stale queue after its for: (13m20s).
    const firing = (alert: string, at: string) => ({ expr: `count(ALERTS{alertname="${alert}",alertstate="firing"})`, eval_time: at, exp_samples: [{ labels: '{}', value: 1 }] });
    const silent = (alert: string) => ['20m', '35m'].map((at) => ({ expr: `ALERTS{alertname="${alert}"}`, eval_time: at, exp_samples: [] }));
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: input,
          promql_expr_test: [
            firing('PostfixRelayQueueStale', '35m'),
            firing('PostfixRelayGmailRateLimited', '20m'),
            firing('PostfixRelayTlsFailure', '20m'),
            firing('PostfixRelayDenied', '20m'),
            ...silent('PostfixRelayDown'),
            ...silent('PostfixRelayHighQueue'),
            ...silent('PostfixRelayHighBounceRate'),
            ...silent('PostfixRelayGmailDailyLimit'),
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
    const r = promtool(['test', 'rules', 'tests.yaml'], dir);
    expect(r.status, r.output).toBe(0);
  });
});

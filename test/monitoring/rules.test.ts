import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { ALERTS, isAlertRule, METRICS, POD_NAME_REGEX, renderRuleGroups, runbookAnchor, TARGETS } from '../../src/monitoring';
import { metricFor, recordedNames, ruleExprs, selectorsIn, withEverything } from './support/queries';

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const load = (name: string) => loadEnvironmentFile(`environments/${name}.yaml`);
const prod = load('prod');
const withAlerts = (env: EnvironmentConfig, alerts: Partial<EnvironmentConfig['alerts']>): EnvironmentConfig => ({
  ...env,
  alerts: { ...env.alerts, ...alerts },
});
const rule = (env: EnvironmentConfig, alert: string) => {
  const found = renderRuleGroups(env)
    .flatMap((g) => g.rules.filter(isAlertRule))
    .find((r) => r.alert === alert);
  if (!found) throw new Error(`${alert} not rendered for ${env.name}`);
  return found;
};

describe('renderRuleGroups', () => {
  it.each(ENVIRONMENTS)('%s: has the user\'s three alerts with their thresholds', (name) => {
    const env = load(name);
    expect(rule(env, 'PostfixRelayDown').expr).toContain('absent(up{');
    expect(rule(env, 'PostfixRelayHighQueue').expr).toMatch(new RegExp(`postfix_showq_message_size_bytes_count\\{[^}]*\\}\\) > ${env.alerts.queueSize}$`));
    expect(rule(env, 'PostfixRelayHighBounceRate').expr).toMatch(
      new RegExp(`rate\\(postfix_smtp_messages_processed_total\\{[^}]*status="bounced"\\}\\[5m\\]\\)\\) > ${String(env.alerts.bounceRatePerSecond).replace('.', '\\.')}$`),
    );
  });

  it('takes the thresholds from the environment (a change in the config changes the rule)', () => {
    const changed = withAlerts(prod, { queueSize: 250, bounceRatePerSecond: 0.5, memoryLimitRatio: 0.8, cpuThrottleRatio: 0.4, for: '7m' });
    expect(rule(changed, 'PostfixRelayHighQueue').expr).toMatch(/> 250$/);
    expect(rule(changed, 'PostfixRelayHighQueue').for).toBe('7m');
    expect(rule(changed, 'PostfixRelayHighBounceRate').expr).toMatch(/> 0\.5$/);
    expect(rule(changed, 'PostfixRelayMemoryNearLimit').expr).toMatch(/> 0\.8$/);
    expect(rule(changed, 'PostfixRelayCpuThrottled').expr).toMatch(/> 0\.4$/);
    expect(rule(changed, 'PostfixRelayHighQueue').annotations.summary).toContain('250');
    expect(renderRuleGroups(changed)).not.toEqual(renderRuleGroups(prod));
  });

  it('measures the queue length as the showq histogram count and never takes its rate', () => {
    for (const expr of ruleExprs(prod)) {
      expect(expr).not.toMatch(/(rate|increase|irate|delta)\(postfix_showq_/);
    }
    expect(rule(prod, 'PostfixRelayHighQueue').expr).toMatch(/^sum by \(namespace, pod\) \(postfix_showq_message_size_bytes_count\{/);
  });

  it('reads postfix_up from the showq series only (Hsn723 also reports the log file, 0 until a new line)', () => {
    expect(rule(prod, 'PostfixRelayDown').expr).toContain(`postfix_up{namespace="email-server-prod", job="postfix-relay-metrics", path="${TARGETS.showqSocket}"} == 0`);
  });

  it('rounds the queue-age threshold to a histogram bucket and makes up the rest with for:', () => {
    const stale = rule(prod, 'PostfixRelayQueueStale');
    expect(prod.alerts.oldestMessageAgeSeconds).toBe(1800);
    expect(stale.expr).toContain('le=~"1000(\\\\.0)?"');
    expect(stale.for).toBe('13m20s');
    const exact = rule(withAlerts(prod, { oldestMessageAgeSeconds: 10000 }), 'PostfixRelayQueueStale');
    expect(exact.expr).toContain('le=~"10000(\\\\.0)?"');
    expect(exact.for).toBe('1m');
    const big = rule(withAlerts(prod, { oldestMessageAgeSeconds: 3 * 86400 }), 'PostfixRelayQueueStale');
    expect(big.expr).toContain('le=~"100000(\\\\.0)?"');
    expect(big.for).toBe('1d20h13m20s');
  });

  it.each(ENVIRONMENTS)('%s: scopes every selector to its namespace, and exporter series to the metrics Service', (name) => {
    const env = load(name);
    for (const expr of ruleExprs(env)) {
      for (const sel of selectorsIn(expr)) {
        expect(sel.matchers, `${sel.name} in ${expr}`).toContain(`namespace="${env.namespace}"`);
        const info = metricFor(sel.name);
        if (info?.source === 'kumina-0.3.0' || info?.source === 'hsn723' || info?.source === 'prometheus') {
          expect(sel.matchers, sel.name).toContain(`job="${TARGETS.metricsService}"`);
        } else if (info?.source === 'kube-state-metrics' || info?.source === 'cadvisor') {
          expect(sel.matchers.includes(`pod=~"${POD_NAME_REGEX}"`) || sel.matchers.includes(`horizontalpodautoscaler="${TARGETS.horizontalPodAutoscaler}"`), sel.name).toBe(
            true,
          );
        }
      }
    }
  });

  it('selects only the workload pods by name', () => {
    const re = new RegExp(`^${POD_NAME_REGEX}$`);
    for (const pod of ['postfix-relay-7d9f8c6b5d-x2x9q', 'postfix-relay-0', 'postfix-relay-12']) expect(pod).toMatch(re);
    for (const pod of ['postfix-relay-metrics', 'other-postfix-relay-0', 'postfix-relay-test-abc', 'postfix-relay']) expect(pod).not.toMatch(re);
  });

  it.each(ENVIRONMENTS)('%s: gives every alert a severity, summary, description and its runbook anchor', (name) => {
    const env = load(name);
    for (const r of renderRuleGroups(env).flatMap((g) => g.rules.filter(isAlertRule))) {
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(r.labels).toMatchObject({ service: 'postfix-relay', environment: env.name });
      expect(r.annotations.summary?.length).toBeGreaterThan(10);
      expect(r.annotations.description?.length).toBeGreaterThan(30);
      expect(r.annotations.runbook_url).toBe(`${env.alerts.runbookBaseUrl}#${r.alert.toLowerCase()}`);
      // The burn-rate alerts have no for: their short window is the confirmation (SRE Workbook).
      if (r.labels.slo) expect(r.for, r.alert).toBeUndefined();
      else expect(r.for, r.alert).toMatch(/^([0-9]+[smhd])+$/);
    }
  });

  it('creates PostfixRelayHpaAtMaximum only where autoscaling is on', () => {
    const names = (name: string) => renderRuleGroups(load(name)).flatMap((g) => g.rules.filter(isAlertRule).map((r) => r.alert));
    expect(load('dev').autoscaling.enabled).toBe(false);
    expect(names('dev')).not.toContain('PostfixRelayHpaAtMaximum');
    expect(names('prod')).toContain('PostfixRelayHpaAtMaximum');
  });

  it('leaves out the exporter alerts when the exporter is not scraped (absent() would page forever)', () => {
    const noMonitor = { ...prod, serviceMonitor: { ...prod.serviceMonitor, enabled: false } };
    const noMetrics = { ...prod, metrics: { ...prod.metrics, enabled: false } };
    for (const env of [noMonitor, noMetrics]) {
      const alerts = renderRuleGroups(env).flatMap((g) => g.rules.filter(isAlertRule).map((r) => r.alert));
      expect(alerts).not.toContain('PostfixRelayDown');
      expect(alerts).toContain('PostfixRelayMemoryNearLimit');
      expect(renderRuleGroups(env).map((g) => g.name)).toEqual(['postfix-relay.prod.workload']);
    }
  });

  it('names the objects the constructs create', async () => {
    const { RELAY_NAME } = await import('../../src/constructs/labels');
    expect(TARGETS.workload).toBe(RELAY_NAME);
    expect(TARGETS.horizontalPodAutoscaler).toBe(RELAY_NAME);
    expect(TARGETS.metricsService).toBe(`${RELAY_NAME}-metrics`);
  });

  it('uses unique group names per environment and unique alert names', () => {
    for (const name of ENVIRONMENTS) {
      const groups = renderRuleGroups(load(name));
      expect(new Set(groups.map((g) => g.name)).size).toBe(groups.length);
      const alerts = groups.flatMap((g) => g.rules.filter(isAlertRule).map((r) => r.alert));
      expect(new Set(alerts).size).toBe(alerts.length);
      for (const g of groups) expect(g.name).toContain(name);
    }
  });

  it('is pure and deterministic', () => {
    const frozen = structuredClone(prod);
    expect(JSON.stringify(renderRuleGroups(prod))).toBe(JSON.stringify(renderRuleGroups(prod)));
    expect(prod).toEqual(frozen);
  });

  it('escapes the DSN regexes for PromQL', () => {
    expect(rule(prod, 'PostfixRelayGmailRateLimited').expr).toContain('dsn=~"4\\\\.2\\\\.1"');
    expect(rule(prod, 'PostfixRelayDenied').expr).toContain('dsn=~"[45]\\\\.7\\\\.[01]"');
    expect(rule(prod, 'PostfixRelayTlsFailure').expr).toContain('dsn=~"[45]\\\\.7\\\\.[45]"');
  });
});

describe('ALERTS (the runbook list)', () => {
  // prod renders every alert but the relay.auth one: add relay.auth to see them all.
  const every: EnvironmentConfig = { ...prod, relay: { ...prod.relay, auth: { secretName: 'relay', usernameKey: 'username', passwordKey: 'password' } } };
  it('lists exactly the alerts the rules can create, in rule order, each with a meaning', () => {
    const rendered = renderRuleGroups(withEverything(every)).flatMap((g) => g.rules.filter(isAlertRule).map((r) => r.alert));
    expect(ALERTS.map((a) => a.name)).toEqual(rendered);
    for (const a of ALERTS) {
      expect(a.meaning.length).toBeGreaterThan(20);
      expect(runbookAnchor(a.name)).toBe(a.name.toLowerCase());
    }
    expect(ALERTS.find((a) => a.name === 'PostfixRelayHpaAtMaximum')?.onlyWhen).toBe('autoscaling.enabled');
    expect(ALERTS.find((a) => a.name === 'PostfixRelayDown')?.onlyWhen).toBe('metrics.enabled and serviceMonitor.enabled');
    expect(ALERTS.find((a) => a.name === 'PostfixRelayOOMKilled')?.onlyWhen).toBeUndefined();
  });

  it('uses the severities of the rendered rules', () => {
    const rendered = new Map(renderRuleGroups(withEverything(every)).flatMap((g) => g.rules.filter(isAlertRule).map((r) => [r.alert, r.labels.severity] as const)));
    for (const a of ALERTS) expect(rendered.get(a.name)).toBe(a.severity);
  });
});

describe('METRICS', () => {
  it('is where every scraped series name of the rules comes from; every other name is recorded by a rule', () => {
    for (const name of ENVIRONMENTS) {
      for (const env of [load(name), withEverything(load(name))]) {
        const recorded = recordedNames(env);
        for (const expr of ruleExprs(env)) {
          for (const sel of selectorsIn(expr)) {
            expect(metricFor(sel.name) !== undefined || recorded.has(sel.name), `${sel.name} (${env.name}) is scraped (METRICS) or recorded`).toBe(true);
          }
        }
      }
    }
  });

  it('says which exporter exposes each name', () => {
    expect(METRICS.smtpProcessed.source).toBe('hsn723');
    expect(METRICS.smtpBouncedByDsn.source).toBe('hsn723');
    expect(METRICS.queueSize.source).toBe('kumina-0.3.0');
    expect(METRICS.restarts.source).toBe('kube-state-metrics');
    expect(METRICS.cpuThrottledPeriods.source).toBe('cadvisor');
  });
});

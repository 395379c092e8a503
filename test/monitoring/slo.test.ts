import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { ALERTS, isAlertRule, renderRuleGroups, SLO_ALERTS, type AlertRule, type RecordingRule } from '../../src/monitoring';
import { probeSampleWindow, senderFaultRegex } from '../../src/monitoring/slo';
import { metricFor, recordedNames, selectorsIn, withEverything } from './support/queries';

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const load = (name: string) => loadEnvironmentFile(`environments/${name}.yaml`);
const prod = load('prod');
const everything = withEverything(prod);

type Slo = EnvironmentConfig['slo'];
const withSlo = (env: EnvironmentConfig, slo: { [K in keyof Slo]?: Partial<Slo[K]> }): EnvironmentConfig => ({
  ...env,
  slo: {
    availability: { ...env.slo.availability, ...slo.availability },
    delivery: { ...env.slo.delivery, ...slo.delivery },
    latency: { ...env.slo.latency, ...slo.latency },
  },
});
const withProbe = (env: EnvironmentConfig, probe: Partial<EnvironmentConfig['probe']> = {}): EnvironmentConfig => ({
  ...env,
  probe: { ...env.probe, enabled: true, ...probe },
});

const sloGroup = (env: EnvironmentConfig) => renderRuleGroups(env).find((g) => g.name === `postfix-relay.${env.name}.slo`);
const records = (env: EnvironmentConfig, slo?: string): RecordingRule[] =>
  (sloGroup(env)?.rules ?? []).filter((r): r is RecordingRule => !isAlertRule(r) && (slo === undefined || r.labels?.slo === slo));
const alerts = (env: EnvironmentConfig): AlertRule[] => (sloGroup(env)?.rules ?? []).filter(isAlertRule);
const alert = (env: EnvironmentConfig, name: string): AlertRule => {
  const found = alerts(env).find((a) => a.alert === name);
  if (!found) throw new Error(`${name} not rendered for ${env.name}`);
  return found;
};
const record = (env: EnvironmentConfig, name: string, slo: string): RecordingRule => {
  const found = records(env, slo).find((r) => r.record === name);
  if (!found) throw new Error(`${name}{slo="${slo}"} not recorded for ${env.name}`);
  return found;
};

describe('the SLO rule group', () => {
  it('records availability (target health) and delivery in prod by default; latency only when enabled', () => {
    const slos = (env: EnvironmentConfig) => [...new Set(records(env).map((r) => r.labels?.slo))];
    expect(slos(prod)).toEqual(['availability', 'delivery']);
    expect(slos(everything)).toEqual(['availability', 'delivery', 'latency']);
    expect(alerts(prod).map((a) => a.alert)).toEqual([
      'PostfixRelayAvailabilityFastBurn',
      'PostfixRelayAvailabilitySlowBurn',
      'PostfixRelayAvailabilityBudgetAtRisk',
      'PostfixRelayDeliveryFastBurn',
      'PostfixRelayDeliverySlowBurn',
      'PostfixRelayDeliveryBudgetAtRisk',
    ]);
  });

  it.each(ENVIRONMENTS)('%s: follows the mail and workload groups, recording rules before the alerts', (name) => {
    const env = withEverything(load(name));
    const groups = renderRuleGroups(env);
    expect(groups.at(-1)?.name).toBe(`postfix-relay.${name}.slo`);
    const rules = groups.at(-1)!.rules;
    const firstAlert = rules.findIndex(isAlertRule);
    expect(rules.slice(firstAlert).every(isAlertRule)).toBe(true);
  });

  it('records every series before a rule of the group reads it (Prometheus evaluates a group in order)', () => {
    const rules = sloGroup(everything)!.rules;
    const recorded = new Set<string>();
    for (const r of rules) {
      for (const sel of selectorsIn(r.expr)) {
        if (sel.name.startsWith('postfix_relay_slo:')) expect(recorded.has(sel.name), `${sel.name} is recorded before ${isAlertRule(r) ? r.alert : r.record} reads it`).toBe(true);
      }
      if (!isAlertRule(r)) recorded.add(r.record);
    }
  });

  it('labels every recorded series with its namespace and SLO, and every selector of a recorded series with both', () => {
    for (const r of records(everything)) expect(r.labels).toEqual({ namespace: prod.namespace, slo: r.labels?.slo });
    for (const r of sloGroup(everything)!.rules) {
      for (const sel of selectorsIn(r.expr).filter((s) => s.name.startsWith('postfix_relay_slo:'))) {
        expect(sel.matchers).toContain(`namespace="${prod.namespace}"`);
        expect(sel.matchers).toMatch(/slo="(availability|delivery|latency)"/);
      }
    }
  });

  it.each(ENVIRONMENTS)('%s: the alert expressions read only recorded series', (name) => {
    const env = withEverything(load(name));
    const recorded = recordedNames(env);
    for (const a of alerts(env)) {
      const names = selectorsIn(a.expr).map((s) => s.name);
      expect(names.length, a.alert).toBe(2);
      for (const n of names) expect(recorded.has(n), `${a.alert} reads ${n}`).toBe(true);
    }
  });

  it.each(ENVIRONMENTS)('%s: no rule names a series that nothing records or scrapes', (name) => {
    for (const env of [load(name), withEverything(load(name)), withProbe(load(name))]) {
      const recorded = recordedNames(env);
      for (const g of renderRuleGroups(env)) {
        for (const r of g.rules) {
          for (const sel of selectorsIn(r.expr)) expect(recorded.has(sel.name) || metricFor(sel.name) !== undefined, `${sel.name} in ${g.name}`).toBe(true);
        }
      }
    }
  });

  it('has no `for:` on the burn-rate alerts: the short window is the confirmation', () => {
    for (const a of alerts(everything)) expect(a.for, a.alert).toBeUndefined();
  });
});

describe('burn-rate thresholds', () => {
  it('are the workbook table for 99.9% over 30 days: 14.4x over 1h/5m, 6x over 6h/30m, 1x over 3d/6h', () => {
    expect(alert(prod, 'PostfixRelayAvailabilityFastBurn').expr).toBe(
      '(postfix_relay_slo:sli_error:ratio_rate1h{namespace="email-server-prod", slo="availability"} / 0.001 > 14.4)' +
        ' and (postfix_relay_slo:sli_error:ratio_rate5m{namespace="email-server-prod", slo="availability"} / 0.001 > 14.4)',
    );
    expect(alert(prod, 'PostfixRelayAvailabilitySlowBurn').expr).toMatch(/ratio_rate6h\{[^}]*\} \/ 0\.001 > 6\) and \(.*ratio_rate30m\{[^}]*\} \/ 0\.001 > 6\)$/);
    expect(alert(prod, 'PostfixRelayAvailabilityBudgetAtRisk').expr).toMatch(/ratio_rate3d\{[^}]*\} \/ 0\.001 > 1\) and \(.*ratio_rate6h\{[^}]*\} \/ 0\.001 > 1\)$/);
    expect(alert(prod, 'PostfixRelayAvailabilityFastBurn').labels.severity).toBe('critical');
    expect(alert(prod, 'PostfixRelayAvailabilitySlowBurn').labels.severity).toBe('critical');
    expect(alert(prod, 'PostfixRelayAvailabilityBudgetAtRisk').labels.severity).toBe('warning');
  });

  it('take the budget from slo.<name>.objective', () => {
    const env = withSlo(prod, { delivery: { objective: 99.5 } });
    expect(alert(env, 'PostfixRelayDeliveryFastBurn').expr).toContain('/ 0.005 > 14.4');
    expect(alert(env, 'PostfixRelayAvailabilityFastBurn').expr).toContain('/ 0.001 > 14.4');
    expect(record(env, 'postfix_relay_slo:objective:ratio', 'delivery').expr).toBe('vector(0.995)');
    expect(record(env, 'postfix_relay_slo:error_budget:remaining_ratio', 'delivery').expr).toContain('/ 0.005');
  });

  it('keep the share of the budget when slo.<name>.window changes: a 7-day window pages at 3.36x', () => {
    const env = withSlo(prod, { availability: { window: '7d' } });
    expect(alert(env, 'PostfixRelayAvailabilityFastBurn').expr).toContain('> 3.36');
    expect(alert(env, 'PostfixRelayAvailabilitySlowBurn').expr).toContain('> 1.4');
    expect(alert(env, 'PostfixRelayAvailabilityBudgetAtRisk').expr).toContain('> 0.233333333333');
    // The window's own ratio is recorded and is what the budget reads.
    expect(records(env, 'availability').map((r) => r.record)).toContain('postfix_relay_slo:sli_error:ratio_rate7d');
    expect(records(env, 'availability').map((r) => r.record)).not.toContain('postfix_relay_slo:sli_error:ratio_rate30d');
    expect(record(env, 'postfix_relay_slo:error_budget:remaining_ratio', 'availability').expr).toContain('ratio_rate7d{');
  });

  it('say in the annotations what burned, at what rate, and link the runbook', () => {
    const a = alert(prod, 'PostfixRelayDeliveryFastBurn');
    expect(a.annotations.summary).toContain('14.4x over 1h');
    expect(a.annotations.description).toContain('{{ printf "%.1f" $value }}x');
    expect(a.annotations.description).toContain('objective 99.9% over 30d');
    expect(a.annotations.runbook_url).toBe(`${prod.alerts.runbookBaseUrl}#postfixrelaydeliveryfastburn`);
    expect(a.labels).toEqual({ severity: 'critical', service: 'postfix-relay', environment: 'prod', slo: 'delivery' });
  });
});

describe('the availability indicator', () => {
  it('without a probe, is target health: some pod scraped with Postfix running (showq), else 0 once the targets seen within 3d are gone for 5m', () => {
    const good = record(prod, 'postfix_relay_slo:sli_good:sample', 'availability').expr;
    const up = 'up{namespace="email-server-prod", job="postfix-relay-metrics"}';
    expect(good).toBe(
      `max(min by (pod) (${up} or postfix_up{namespace="email-server-prod", job="postfix-relay-metrics", path="/var/spool/postfix/public/showq"}))` +
        ` or on() (vector(0) and on() absent_over_time(${up}[5m]) and on() present_over_time(${up}[3d]))`,
    );
  });

  it('with a probe, is the share of successful probes in two probe intervals, and 0 once a probe seen within 3d is gone for 5m', () => {
    const good = record(withProbe(prod), 'postfix_relay_slo:sli_good:sample', 'availability').expr;
    const probe = 'probe_success{namespace="email-server-prod", job="postfix-relay-probe"}';
    expect(good).toBe(`min(avg_over_time(${probe}[59s])) or on() (vector(0) and on() absent_over_time(${probe}[5m]) and on() present_over_time(${probe}[3d]))`);
  });

  it.each([
    ['30s', '59s'],
    ['10s', '59s'],
    ['1m', '1m59s'],
    ['2m', '3m59s'],
  ])('a probe every %s is sampled over %s', (interval, window) => {
    expect(probeSampleWindow(withProbe(prod, { interval }))).toBe(window);
    expect(record(withProbe(prod, { interval }), 'postfix_relay_slo:sli_good:sample', 'availability').expr).toContain(`[${window}]`);
  });

  it('exists with the probe even when the exporter is not scraped', () => {
    const noMetrics = { ...withProbe(prod), metrics: { ...prod.metrics, enabled: false } };
    expect(records(noMetrics, 'availability').length).toBeGreaterThan(0);
    expect(records(noMetrics, 'delivery')).toEqual([]);
    expect(records({ ...prod, metrics: { ...prod.metrics, enabled: false } })).toEqual([]);
  });

  it('records over every alert window and the SLO window', () => {
    expect(records(prod, 'availability').map((r) => r.record)).toEqual([
      'postfix_relay_slo:sli_good:sample',
      ...['5m', '30m', '1h', '6h', '3d', '30d'].map((w) => `postfix_relay_slo:sli_error:ratio_rate${w}`),
      'postfix_relay_slo:objective:ratio',
      'postfix_relay_slo:error_budget:remaining_ratio',
    ]);
    expect(record(prod, 'postfix_relay_slo:sli_error:ratio_rate6h', 'availability').expr).toBe(
      '1 - avg_over_time(postfix_relay_slo:sli_good:sample{namespace="email-server-prod", slo="availability"}[6h])',
    );
  });
});

describe('the delivery indicator', () => {
  const ratio = (env: EnvironmentConfig) => record(env, 'postfix_relay_slo:sli_error:ratio_rate1h', 'delivery').expr;

  it("is relay-caused bounces and expiries over everything handed on, with the sender's own bounces left out", () => {
    const dsn = 'dsn!~"5\\\\.1\\\\.[0-9]+|5\\\\.2\\\\.[0-9]+|5\\\\.3\\\\.4|5\\\\.6\\\\.[0-9]+"';
    const bounced = `sum(increase(postfix_smtp_bounced_messages_by_dsn_total{namespace="email-server-prod", job="postfix-relay-metrics", ${dsn}}[1h]))`;
    const expired = 'sum(increase(postfix_qmgr_messages_expired_total{namespace="email-server-prod", job="postfix-relay-metrics"}[1h]))';
    const sent = 'sum(increase(postfix_smtp_messages_processed_total{namespace="email-server-prod", job="postfix-relay-metrics", status="sent"}[1h]))';
    const bad = `(${bounced} or vector(0)) + (${expired} or vector(0))`;
    expect(ratio(prod)).toBe(`(${bad}) / (((${sent} or vector(0)) + ${bad}) > 0)`);
  });

  it('takes the sender-fault DSNs from slo.delivery.senderFaultDsns (classes and codes)', () => {
    expect(senderFaultRegex(withSlo(prod, { delivery: { senderFaultDsns: ['5.1', '5.7.26'] } }))).toBe('5\\.1\\.[0-9]+|5\\.7\\.26');
    expect(ratio(withSlo(prod, { delivery: { senderFaultDsns: ['5.1', '5.7.26'] } }))).toContain('dsn!~"5\\\\.1\\\\.[0-9]+|5\\\\.7\\\\.26"');
    // An empty list counts every bounce against the relay: no DSN matcher at all.
    expect(ratio(withSlo(prod, { delivery: { senderFaultDsns: [] } }))).not.toContain('dsn!~');
  });

  it('exists only where the exporter is scraped', () => {
    expect(records({ ...prod, serviceMonitor: { ...prod.serviceMonitor, enabled: false } }, 'delivery')).toEqual([]);
  });
});

describe('the latency indicator', () => {
  it('is good in a minute without a queued message older than slo.latency.thresholdSeconds', () => {
    const good = record(everything, 'postfix_relay_slo:sli_good:sample', 'latency').expr;
    expect(good).toBe(
      '(sum(postfix_showq_message_age_seconds_count{namespace="email-server-prod", job="postfix-relay-metrics"})' +
        ' - sum(postfix_showq_message_age_seconds_bucket{namespace="email-server-prod", job="postfix-relay-metrics", le=~"1000(\\\\.0)?"})) == bool 0',
    );
    const env = withSlo(everything, { latency: { thresholdSeconds: 100000 } });
    expect(record(env, 'postfix_relay_slo:sli_good:sample', 'latency').expr).toContain('le=~"100000(\\\\.0)?"');
  });
});

describe('turning SLOs off', () => {
  it.each(['availability', 'delivery', 'latency'] as const)('slo.%s.enabled: false removes its rules and alerts', (key) => {
    const env = withSlo(everything, { [key]: { enabled: false } });
    expect(records(env, key)).toEqual([]);
    expect(alerts(env).filter((a) => a.labels.slo === key)).toEqual([]);
    expect(alerts(everything).filter((a) => a.labels.slo === key)).toHaveLength(3);
  });

  it('leaves no SLO group when every SLO is off', () => {
    const env = withSlo(everything, { availability: { enabled: false }, delivery: { enabled: false }, latency: { enabled: false } });
    expect(sloGroup(env)).toBeUndefined();
  });
});

describe('ALERTS lists the SLO alerts for the runbook', () => {
  it('with their severities and the settings they need', () => {
    expect(SLO_ALERTS.map((a) => a.name)).toEqual(alerts(everything).map((a) => a.alert));
    expect(ALERTS.slice(-SLO_ALERTS.length)).toEqual(SLO_ALERTS);
    expect(SLO_ALERTS.find((a) => a.name === 'PostfixRelayAvailabilityFastBurn')?.onlyWhen).toBe('slo.availability.enabled');
    expect(SLO_ALERTS.find((a) => a.name === 'PostfixRelayLatencyBudgetAtRisk')).toMatchObject({
      severity: 'warning',
      onlyWhen: 'slo.latency.enabled and metrics.enabled and serviceMonitor.enabled',
    });
  });
});

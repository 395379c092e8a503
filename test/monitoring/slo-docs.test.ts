import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { renderRuleGroups, isAlertRule } from '../../src/monitoring';
import { sloToolQueries } from './support/slo-docs';
import { metricFor, recordedNames, selectorsIn } from './support/queries';

const prod = loadEnvironmentFile('environments/prod.yaml');
const probeOn = { ...prod, probe: { ...prod.probe, enabled: true } };

describe("docs/SLO.md's Sloth and Pyrra examples", () => {
  const queries = sloToolQueries();

  it('cover availability and delivery in both tools', () => {
    expect(queries.map((q) => q.where)).toEqual([
      'sloth availability.error_ratio_query',
      'sloth delivery.error_query',
      'sloth delivery.total_query',
      'pyrra postfix-relay-prod-availability.bool_gauge',
      'pyrra postfix-relay-prod-delivery.errors',
      'pyrra postfix-relay-prod-delivery.total',
    ]);
  });

  it('read only series that prod records or scrapes, with its namespace', () => {
    const recorded = recordedNames(probeOn);
    for (const q of queries) {
      const sels = selectorsIn(q.expr);
      expect(sels.length, q.where).toBeGreaterThan(0);
      for (const s of sels) {
        expect(recorded.has(s.name) || metricFor(s.name) !== undefined, `${s.name} (${q.where})`).toBe(true);
        expect(s.matchers, q.where).toContain('namespace="email-server-prod"');
      }
    }
  });

  it('use the recorded availability sample and the same sender-fault DSNs as the rules', () => {
    const rules = renderRuleGroups(probeOn).flatMap((g) => g.rules.filter((r) => !isAlertRule(r)));
    const good = rules.find((r) => !isAlertRule(r) && r.record === 'postfix_relay_slo:sli_good:sample' && r.labels?.slo === 'availability');
    expect(good).toBeDefined();
    expect(queries.find((q) => q.where === 'pyrra postfix-relay-prod-availability.bool_gauge')?.expr).toBe(
      'postfix_relay_slo:sli_good:sample{namespace="email-server-prod", slo="availability"}',
    );
    const ratio = rules.find((r) => !isAlertRule(r) && r.record === 'postfix_relay_slo:sli_error:ratio_rate5m' && r.labels?.slo === 'delivery')!;
    const dsn = /dsn!~"[^"]*"/.exec(ratio.expr)![0];
    for (const q of queries.filter((x) => x.expr.includes('postfix_smtp_bounced_messages_by_dsn_total'))) expect(q.expr).toContain(dsn);
  });
});

/**
 * The SLO rules (recording rules and multiwindow burn-rate alerts, src/monitoring/slo.ts) under
 * the real promtool: `promtool check rules` on every environment, and `promtool test rules` on
 * synthetic series that prove the arithmetic the issue lists (test/monitoring/support/slo-scenarios.ts):
 * 0.05% errors for days page nobody and open no ticket; a complete outage pages within 2
 * minutes; 2% errors page through the fast-burn alert within 45 minutes and stop within the
 * 5-minute confirmation window after recovery; 0.2% opens a ticket within two days and pages
 * nobody; a probe series that disappears is an error. Then: the scenarios fail when the rules
 * are broken in the ways they guard against.
 *
 * promtool evaluates every rule at every step of a scenario, so the days-long ones cost tens of
 * CPU seconds: all scenarios start together in beforeAll, two at a time (the machine's cores).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { isAlertRule, renderDashboard, renderRuleGroups, type RuleGroup, type SloKey } from '../../src/monitoring';
import { promtool, type RunResult } from '../monitoring/support/promtool-tests';
import {
  availabilityProbeScenarios,
  availabilityTargetScenarios,
  deliveryScenarios,
  latencyScenarios,
  sloTestDocument,
  type SloScenario,
} from '../monitoring/support/slo-scenarios';
import { dashboardExprs } from '../monitoring/support/queries';
import { sloToolQueries } from '../monitoring/support/slo-docs';
import { requireTool } from './harness';

const ready = requireTool('promtool', 'prometheus');

const prod = loadEnvironmentFile('environments/prod.yaml');
const withProbe: EnvironmentConfig = {
  ...prod,
  probe: { ...prod.probe, enabled: true },
  slo: { ...prod.slo, latency: { ...prod.slo.latency, enabled: true } },
};
const withoutProbe: EnvironmentConfig = { ...prod, probe: { ...prod.probe, enabled: false } };

/**
 * The generated rules a scenario of one SLO needs: that SLO's recording rules and alerts, and
 * the mail alerts (PostfixRelayDown reads the probe). The other SLOs' rules (their own `slo`
 * label) and the workload alerts read none of the scenario's series: they would only add time.
 */
function rulesOf(env: EnvironmentConfig, slo: SloKey): RuleGroup[] {
  return renderRuleGroups(env)
    .filter((g) => !g.name.endsWith('.workload'))
    .map((g) => ({ ...g, rules: g.rules.filter((r) => r.labels?.slo === undefined || r.labels.slo === slo) }));
}

/** The rules with `from` replaced by `to` in the expressions of `rule` (an alert or a recorded series); throws when absent. */
function mutate(groups: readonly RuleGroup[], rule: string, from: string, to: string): RuleGroup[] {
  let hits = 0;
  const out = groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) => {
      const name = isAlertRule(r) ? r.alert : r.record;
      if (name !== rule || !r.expr.includes(from)) return r;
      hits++;
      return { ...r, expr: r.expr.split(from).join(to) };
    }),
  }));
  if (!hits) throw new Error(`mutation not applied: "${from}" is not in ${rule}`);
  return out;
}

const scenarioOf = (name: string): SloScenario => {
  const all = [
    ...availabilityProbeScenarios(withProbe),
    ...availabilityTargetScenarios(withoutProbe),
    ...deliveryScenarios(withProbe),
    ...latencyScenarios(withProbe),
  ];
  const found = all.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario "${name}"`);
  return found;
};

describe.skipIf(!ready)('SLO rules under promtool', () => {
  let dir: string;
  let n = 0;
  const queue: Array<() => void> = [];
  let running = 0;
  const CONCURRENCY = 2;

  /** Runs promtool test rules on one scenario, at most CONCURRENCY at a time. */
  const run = (groups: readonly RuleGroup[], scenario: SloScenario): Promise<RunResult & { ms: number }> => {
    const name = `case-${n++}`;
    writeFileSync(join(dir, `${name}.rules.yaml`), stringify({ groups }));
    writeFileSync(join(dir, `${name}.tests.yaml`), stringify(sloTestDocument([scenario], `${name}.rules.yaml`)));
    return new Promise((resolve) => {
      const start = () => {
        running++;
        const started = Date.now();
        const child = spawn('promtool', ['test', 'rules', `${name}.tests.yaml`], { cwd: dir });
        let output = '';
        child.stdout.on('data', (c) => (output += c));
        child.stderr.on('data', (c) => (output += c));
        child.once('close', (status) => {
          running--;
          queue.shift()?.();
          resolve({ status, output, ms: Date.now() - started });
        });
      };
      if (running < CONCURRENCY) start();
      else queue.push(start);
    });
  };

  const cases: Array<[string, EnvironmentConfig, SloScenario, SloKey]> = [
    ...availabilityProbeScenarios(withProbe).map((s) => [s.name, withProbe, s, 'availability'] as [string, EnvironmentConfig, SloScenario, SloKey]),
    ...availabilityTargetScenarios(withoutProbe).map((s) => [s.name, withoutProbe, s, 'availability'] as [string, EnvironmentConfig, SloScenario, SloKey]),
    ...deliveryScenarios(withProbe).map((s) => [s.name, withProbe, s, 'delivery'] as [string, EnvironmentConfig, SloScenario, SloKey]),
    ...latencyScenarios(withProbe).map((s) => [s.name, withProbe, s, 'latency'] as [string, EnvironmentConfig, SloScenario, SloKey]),
  ];
  const results = new Map<string, Promise<RunResult & { ms: number }>>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'email-server-slo-'));
    // Longest first, so that the two slots stay busy.
    for (const [name, env, scenario, slo] of [...cases].sort((a, b) => weight(b[2]) - weight(a[2]))) results.set(name, run(rulesOf(env, slo), scenario));
  });
  afterAll(async () => {
    await Promise.all(results.values());
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['dev', loadEnvironmentFile('environments/dev.yaml')],
    ['staging', loadEnvironmentFile('environments/staging.yaml')],
    ['prod', prod],
    ['prod with the probe and the latency SLO', withProbe],
  ] as const)('%s: promtool check rules accepts every rule', (_name, env) => {
    const groups = renderRuleGroups(env);
    const path = join(dir, `check-${n++}.yaml`);
    writeFileSync(path, stringify({ groups }));
    const r = promtool(['check', 'rules', path], dir);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
  });

  it("parses every query of the dashboard's SLO row, probe included (as recording rules)", () => {
    const exprs = dashboardExprs(renderDashboard(withProbe)).filter((e) => /postfix_relay_slo:|probe_/.test(e));
    expect(exprs.length).toBeGreaterThan(9);
    const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
    const path = join(dir, `dashboard-${n++}.yaml`);
    writeFileSync(path, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = promtool(['check', 'rules', path], dir);
    expect(r.status, r.output).toBe(0);
  });

  it("parses the Sloth and Pyrra examples of docs/SLO.md (as recording rules)", () => {
    const queries = sloToolQueries();
    const rules = queries.map((q, i) => ({ record: `docs:query_${i}`, expr: q.expr }));
    const path = join(dir, `docs-${n++}.yaml`);
    writeFileSync(path, stringify({ groups: [{ name: 'docs', rules }] }));
    const r = promtool(['check', 'rules', path], dir);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  it.each(cases.map(([name, , scenario]) => [name, scenario] as const))('%s', async (name, scenario) => {
    const r = await results.get(name)!;
    expect(r.status, `${scenario.checks.map((c) => `- ${c.why}`).join('\n')}\n${r.output}`).toBe(0);
    expect(r.output).toContain('SUCCESS');
    console.log(`slo scenario "${name}": ${(r.ms / 1000).toFixed(1)} s`);
  });

  describe('each scenario fails on the rules it guards against', () => {
    const fails = async (groups: RuleGroup[], scenario: string) => {
      const r = await run(groups, scenarioOf(scenario));
      expect(r.status, r.output).not.toBe(0);
      return r.output;
    };

    it('a smaller burn-rate factor pages too early (2% scenario)', async () => {
      const groups = mutate(rulesOf(withProbe, 'delivery'), 'PostfixRelayDeliveryFastBurn', '> 14.4', '> 10');
      expect(await fails(groups, 'delivery: 2% of messages bounce for an hour, then none')).toMatch(/PostfixRelayDeliveryFastBurn[\s\S]*time: 6h42m/);
    });

    it('an alert without its short window keeps paging after recovery', async () => {
      const groups = rulesOf(withProbe, 'delivery').map((g) => ({
        ...g,
        rules: g.rules.map((r) => (isAlertRule(r) && r.alert === 'PostfixRelayDeliveryFastBurn' ? { ...r, expr: r.expr.replace(/ and \(.*\)$/, '') } : r)),
      }));
      expect(groups.flatMap((g) => g.rules).some((r) => isAlertRule(r) && r.alert === 'PostfixRelayDeliveryFastBurn' && !r.expr.includes(' and '))).toBe(true);
      expect(await fails(groups, 'delivery: 2% of messages bounce for an hour, then none')).toContain('PostfixRelayDeliveryFastBurn');
    });

    it("counting the sender's own bounces pages on them", async () => {
      const groups = rulesOf(withProbe, 'delivery').map((g) => ({
        ...g,
        rules: g.rules.map((r) => ({ ...r, expr: r.expr.replace(/, dsn!~"[^"]*"/g, '') })),
      }));
      expect(await fails(groups, 'delivery: 2% of messages bounce for an hour, then none')).toContain('FAILED');
    });

    it('a probe sample without its `or on() (vector(0) ...)` branch is silence when the probe disappears', async () => {
      const groups = rulesOf(withProbe, 'availability').map((g) => ({
        ...g,
        rules: g.rules.map((r) => (!isAlertRule(r) && r.record === 'postfix_relay_slo:sli_good:sample' ? { ...r, expr: r.expr.replace(/ or on\(\) \(vector\(0\).*$/, '') } : r)),
      }));
      expect(groups.flatMap((g) => g.rules).some((r) => !isAlertRule(r) && r.record === 'postfix_relay_slo:sli_good:sample' && !r.expr.includes('vector(0)'))).toBe(true);
      expect(await fails(groups, 'availability: the probe series disappears')).toContain('PostfixRelayAvailabilityFastBurn');
    });

    it('PostfixRelayDown without the probe branch misses what clients see', async () => {
      const groups = rulesOf(withProbe, 'availability').map((g) => ({
        ...g,
        rules: g.rules.map((r) => (isAlertRule(r) && r.alert === 'PostfixRelayDown' ? { ...r, expr: r.expr.replace(/ or \(min by \(namespace, job, instance\).*$/, '') } : r)),
      }));
      expect(await fails(groups, 'availability: a complete outage')).toContain('PostfixRelayDown');
    });

    it('target health that reads the exporter log-file series (not showq) pages on an idle relay', async () => {
      const groups = mutate(rulesOf(withoutProbe, 'availability'), 'postfix_relay_slo:sli_good:sample', ', path="/var/spool/postfix/public/showq"', '');
      expect(await fails(groups, 'availability without a probe: every pod down')).toMatch(/PostfixRelayAvailability[\s\S]*time: 1h59m/);
    });

    it('a missing source counted without having been seen pages at every fresh install', async () => {
      const groups = mutate(rulesOf(withProbe, 'availability'), 'postfix_relay_slo:sli_good:sample', ' and on() present_over_time(probe_success{namespace="email-server-prod", job="postfix-relay-probe"}[3d])', '');
      expect(await fails(groups, 'availability: the first probe arrives minutes after the rules')).toContain('PostfixRelayAvailabilityFastBurn');
    });

    it('a renamed probe metric fails', async () => {
      const groups = mutate(rulesOf(withProbe, 'availability'), 'postfix_relay_slo:sli_good:sample', 'probe_success{', 'probe_succeeded{');
      expect(await fails(groups, 'availability: a complete outage')).toContain('FAILED');
    });
  });
});

/** Rough cost of a scenario: promtool evaluates every rule once per step. */
function weight(s: SloScenario): number {
  const lastCheck = Math.max(...s.checks.map((c) => c.at));
  return lastCheck / (s.evaluationInterval === '5m' ? 300 : 60);
}

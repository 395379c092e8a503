/**
 * Writes the rule groups and the promtool unit tests for an environment into a directory, and
 * runs promtool on them.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isAlertRule, type AlertRule, type RuleGroup } from '../../../src/monitoring';
import type { Expected, Scenario } from './promtool-scenarios';

/**
 * Expands the only template forms the rules may use: `{{ $labels.NAME }}` and
 * `{{ printf "%.Nf" $value }}`. Anything else throws, so a new template form cannot slip past
 * these tests unchecked.
 */
export function expandTemplate(template: string, expected: Expected, where: string): string {
  return template.replace(/\{\{(.*?)\}\}/g, (_whole, inner: string) => {
    const body = inner.trim();
    const label = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(body);
    if (label) return expected.labels[label[1] as string] ?? '';
    const printf = /^printf "%\.(\d)f" \$value$/.exec(body);
    if (printf) {
      if (expected.value === undefined) throw new Error(`${where}: the annotation prints $value but the scenario gives no expected value`);
      return expected.value.toFixed(Number(printf[1]));
    }
    throw new Error(`${where}: unsupported template "{{${inner}}}" (use {{ $labels.x }} or {{ printf "%.Nf" $value }})`);
  });
}

function alertsByName(groups: readonly RuleGroup[]): Map<string, AlertRule> {
  return new Map(groups.flatMap((g) => g.rules.filter(isAlertRule).map((r) => [r.alert, r] as const)));
}

function seriesLabels(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

/** The promtool test document (`promtool test rules`) for the scenarios against these groups. */
export function promtoolTestDocument(groups: readonly RuleGroup[], scenarios: readonly Scenario[], rulesFile: string): Record<string, unknown> {
  const rules = alertsByName(groups);
  const tests = scenarios.map((s) => {
    const rule = rules.get(s.alert);
    if (!rule) throw new Error(`scenario "${s.name}" tests ${s.alert}, which the rules do not define`);
    const full = (e: Expected) => ({ ...e.labels, ...rule.labels });
    const annotations = (e: Expected) =>
      Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, expandTemplate(v, { ...e, labels: full(e) }, `${s.alert}.${k}`)]));
    return {
      name: `${s.alert}: ${s.name}`,
      interval: '1m',
      input_series: s.series,
      alert_rule_test: s.checks.map((c) => ({
        eval_time: `${c.at}s`,
        alertname: s.alert,
        exp_alerts: c.firing.map((e) => ({ exp_labels: full(e), exp_annotations: annotations(e) })),
      })),
      promql_expr_test: s.checks
        .filter((c) => c.pending !== undefined)
        .map((c) => ({
          expr: `ALERTS{alertname=${JSON.stringify(s.alert)}, alertstate="pending"}`,
          eval_time: `${c.at}s`,
          exp_samples: (c.pending ?? []).map((e) => ({
            labels: seriesLabels('ALERTS', { alertname: s.alert, alertstate: 'pending', ...full(e) }),
            value: 1,
          })),
        })),
    };
  });
  return { rule_files: [rulesFile], evaluation_interval: '1m', tests };
}

export interface Written {
  readonly rulesPath: string;
  readonly testsPath: string;
}

/** Writes `<name>.rules.yaml` (a rules file: the PrometheusRule's spec) and `<name>.tests.yaml`. */
export function writePromtoolFiles(dir: string, name: string, groups: readonly RuleGroup[], scenarios: readonly Scenario[]): Written {
  const rulesPath = join(dir, `${name}.rules.yaml`);
  const testsPath = join(dir, `${name}.tests.yaml`);
  writeFileSync(rulesPath, stringify({ groups }));
  writeFileSync(testsPath, stringify(promtoolTestDocument(groups, scenarios, `${name}.rules.yaml`)));
  return { rulesPath, testsPath };
}

export interface RunResult {
  readonly status: number | null;
  readonly output: string;
}

export function promtool(args: readonly string[], cwd: string): RunResult {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Finds the PromQL the rules and the dashboard contain, and the metric names they read. */
import type { EnvironmentConfig } from '../../../src/config/schema';
import { isAlertRule, METRICS, renderDashboard, renderRuleGroups, type MetricInfo } from '../../../src/monitoring';

/** Every `expr` in the dashboard JSON (panels and their targets). */
export function dashboardExprs(dashboard: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'expr' && typeof v === 'string') out.push(v);
        else walk(v);
      }
    }
  };
  walk(dashboard);
  return out;
}

export function ruleExprs(env: EnvironmentConfig): string[] {
  return renderRuleGroups(env).flatMap((g) => g.rules.map((r) => r.expr));
}

/** Metric selectors written as `name{...}` (every query here uses one); quoted values may hold braces. */
export function selectorsIn(expr: string): Array<{ name: string; matchers: string }> {
  const out: Array<{ name: string; matchers: string }> = [];
  const start = /([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g;
  for (let m = start.exec(expr); m; m = start.exec(expr)) {
    let i = start.lastIndex;
    let quoted = false;
    for (; i < expr.length; i++) {
      const ch = expr[i];
      if (quoted && ch === '\\') i++;
      else if (ch === '"') quoted = !quoted;
      else if (!quoted && ch === '}') break;
    }
    out.push({ name: m[1] as string, matchers: expr.slice(start.lastIndex, i) });
    start.lastIndex = i + 1;
  }
  return out;
}

const HISTOGRAM_SUFFIXES = ['_bucket', '_count', '_sum'];

/** The METRICS entry a series name belongs to (histogram series map to their family). */
export function metricFor(series: string): MetricInfo | undefined {
  const all = Object.values(METRICS) as MetricInfo[];
  const direct = all.find((m) => m.name === series);
  if (direct) return direct;
  const suffix = HISTOGRAM_SUFFIXES.find((s) => series.endsWith(s));
  if (!suffix) return undefined;
  const family = series.slice(0, -suffix.length);
  return all.find((m) => m.name === family && m.type === 'histogram');
}

/** Names of the series the rules of `env` record (`record:`). */
export function recordedNames(env: EnvironmentConfig): Set<string> {
  return new Set(renderRuleGroups(env).flatMap((g) => g.rules.flatMap((r) => (isAlertRule(r) ? [] : [r.record]))));
}

/** Every series name (with histogram suffixes) the rules and the dashboard of `env` read, recorded ones included. */
export function readSeriesNames(env: EnvironmentConfig): Set<string> {
  const exprs = [...ruleExprs(env), ...dashboardExprs(renderDashboard(env))];
  return new Set(exprs.flatMap((e) => selectorsIn(e).map((s) => s.name)));
}

/** Scraped series names (with histogram suffixes) read by the rules and the dashboard of `env`: not the recorded ones. */
export function usedSeriesNames(env: EnvironmentConfig): Set<string> {
  const recorded = recordedNames(env);
  return new Set([...readSeriesNames(env)].filter((n) => !recorded.has(n)));
}

/**
 * The environment with every optional monitoring feature on (the probe, the latency SLO), so
 * that checks over "everything the rules can read" see every rule.
 */
export function withEverything(env: EnvironmentConfig): EnvironmentConfig {
  return {
    ...env,
    probe: { ...env.probe, enabled: true },
    slo: { ...env.slo, latency: { ...env.slo.latency, enabled: true } },
  };
}

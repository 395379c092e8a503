import type { EnvironmentConfig } from '../config/schema';
import { BURN_ALERTS, burnRate, errorBudget, LONGEST_ALERT_WINDOW, type BurnAlert } from '../config/sections/slo';
import { METRICS, TARGETS } from './metrics';
import { durationSeconds, escapeRegex, formatDuration, leMatcher, selector } from './promql';
import type { AlertRule, AlertSummary, RecordingRule, RuleGroup } from './rules';
import { exporterScraped, exporterSelector, probeSelector, runbookUrl } from './scope';

/**
 * Service level objectives as Prometheus rules (docs/SLO.md): per SLI, recording rules for its
 * error ratio over every window the multiwindow, multi-burn-rate method needs, its objective and
 * the error budget left; then the alerts of Google's SRE Workbook ("Alerting on SLOs": two pages and
 * the 3-day ticket of its recommended parameters), which read only those recorded series.
 *
 * Two kinds of SLI:
 *  - sampled (availability, latency): at every rule evaluation a `good` sample of 1 or 0 is
 *    recorded; the error ratio over a window is 1 - its average. An availability source that
 *    disappears (a probe series gone stale, a scrape target gone) records 0 once it has been
 *    missing for MISSING_AFTER: silence is an error.
 *  - counted (delivery): bad and valid events from the exporter's counters; the error ratio is
 *    bad / valid over the window, and nothing is recorded while no message was handled.
 */

export type SloKey = keyof EnvironmentConfig['slo'];

/** Names of the recorded series; every SLO series carries the labels {namespace, slo}. */
export const SLO_SERIES = {
  good: 'postfix_relay_slo:sli_good:sample',
  objective: 'postfix_relay_slo:objective:ratio',
  budgetRemaining: 'postfix_relay_slo:error_budget:remaining_ratio',
  errorRatio: (window: string) => `postfix_relay_slo:sli_error:ratio_rate${window}`,
} as const;

interface SliDefinition {
  readonly key: SloKey;
  readonly title: string;
  /** A bad event, in words (runbook list, annotations). */
  readonly bad: (env: EnvironmentConfig) => string;
  readonly onlyWhen: string;
  readonly include: (env: EnvironmentConfig) => boolean;
  /** Sampled SLIs: 1 (good) or 0 (bad) at each evaluation. */
  readonly good?: (env: EnvironmentConfig) => string;
  /** Counted SLIs: the error ratio over a window; no result while nothing was counted. */
  readonly errorRatio?: (env: EnvironmentConfig, window: string) => string;
}

/**
 * The window over which a probe sample averages the probe results: just under two probe
 * intervals (at least a minute), so that it holds two results and counts each result once per
 * interval whether range selectors include their left edge (Prometheus 2) or not (3). A
 * window of exactly two intervals would hold three results at aligned evaluations and weigh
 * some failures double.
 */
export function probeSampleWindow(env: EnvironmentConfig): string {
  return formatDuration(Math.max(60, Math.ceil(2 * durationSeconds(env.probe.interval))) - 1);
}

/** Regex of the bounce DSNs that are the sender's doing (slo.delivery.senderFaultDsns). */
export function senderFaultRegex(env: EnvironmentConfig): string | undefined {
  const codes = env.slo.delivery.senderFaultDsns;
  if (codes.length === 0) return undefined;
  return codes.map((c) => (c.split('.').length === 2 ? `${escapeRegex(c)}\\.[0-9]+` : escapeRegex(c))).join('|');
}

const sum = (inner: string) => `(sum(${inner}) or vector(0))`;

/**
 * How long a source may be missing before its absence counts as failure: Prometheus' default
 * lookback. A source gone for that long (the prober down, the Probe or ServiceMonitor no
 * longer selected) records 0, an error; a shorter gap (a Prometheus restart) records nothing.
 */
export const MISSING_AFTER = '5m';

/**
 * A source counts as missing only if it was there within the longest alert window: a fresh
 * install, whose rules run minutes before the first scrape, records nothing until it is; a
 * source gone for longer than that has paged and ticketed long since, and PostfixRelayDown
 * (absent()) keeps firing.
 */
export const SEEN_WITHIN = LONGEST_ALERT_WINDOW;

/** `or 0 when <series> has had no sample for MISSING_AFTER, but had one within SEEN_WITHIN`. */
function missingFor(series: string): string {
  return `or on() (vector(0) and on() absent_over_time(${series}[${MISSING_AFTER}]) and on() present_over_time(${series}[${SEEN_WITHIN}]))`;
}

const SLIS: readonly SliDefinition[] = [
  {
    key: 'availability',
    title: 'Availability',
    bad: (env) =>
      env.probe.enabled
        ? 'a probe that could not hold an SMTP conversation with the relay Service (banner, EHLO, MAIL, RCPT, QUIT), or no probe result at all'
        : 'a minute in which no relay pod is scraped with Postfix running (target health: the weaker signal without a probe)',
    onlyWhen: 'slo.availability.enabled',
    include: (env) => env.slo.availability.enabled && (env.probe.enabled || exporterScraped(env)),
    good: (env) => {
      if (env.probe.enabled) {
        const probe = selector(METRICS.probeSuccess.name, probeSelector(env));
        return `min(avg_over_time(${probe}[${probeSampleWindow(env)}])) ${missingFor(probe)}`;
      }
      const sel = exporterSelector(env);
      const up = selector(METRICS.up.name, sel);
      return `max(min by (pod) (${up} or ${selector(METRICS.postfixUp.name, { ...sel, path: TARGETS.showqSocket })})) ${missingFor(up)}`;
    },
  },
  {
    key: 'delivery',
    title: 'Delivery',
    bad: () => 'a message the relay bounced for a reason of its own (not the sender\'s: slo.delivery.senderFaultDsns) or returned after queue.maximalQueueLifetime',
    onlyWhen: 'slo.delivery.enabled and metrics.enabled and serviceMonitor.enabled',
    include: (env) => env.slo.delivery.enabled && exporterScraped(env),
    errorRatio: (env, window) => {
      const sel = exporterSelector(env);
      const fault = senderFaultRegex(env);
      const bounced = selector(METRICS.smtpBouncedByDsn.name, fault ? { ...sel, dsn: { nre: fault } } : sel);
      const increase = (series: string) => sum(`increase(${series}[${window}])`);
      const bad = `${increase(bounced)} + ${increase(selector(METRICS.messagesExpired.name, sel))}`;
      const sent = increase(selector(METRICS.smtpProcessed.name, { ...sel, status: 'sent' }));
      return `(${bad}) / ((${sent} + ${bad}) > 0)`;
    },
  },
  {
    key: 'latency',
    title: 'Latency',
    bad: (env) => `a minute in which a queued message is older than ${formatDuration(env.slo.latency.thresholdSeconds)}`,
    onlyWhen: 'slo.latency.enabled and metrics.enabled and serviceMonitor.enabled',
    include: (env) => env.slo.latency.enabled && exporterScraped(env),
    good: (env) => {
      const sel = exporterSelector(env);
      const age = METRICS.queueAge.name;
      return (
        `(sum(${selector(`${age}_count`, sel)}) - sum(${selector(`${age}_bucket`, { ...sel, le: leMatcher(env.slo.latency.thresholdSeconds) })}))` +
        ' == bool 0'
      );
    },
  },
];

/** Alert name of one SLI and one row of the burn-rate table, e.g. PostfixRelayAvailabilityFastBurn. */
export function sloAlertName(sli: Pick<SliDefinition, 'title'>, alert: Pick<BurnAlert, 'key'>): string {
  return `PostfixRelay${sli.title}${alert.key}`;
}

/** The windows an SLI is recorded over: every alert window and the objective's own window. */
export function sloWindows(env: EnvironmentConfig, key: SloKey): string[] {
  const windows = new Set<string>([...BURN_ALERTS.flatMap((a) => [a.long, a.short]), env.slo[key].window]);
  return [...windows].sort((a, b) => durationSeconds(a) - durationSeconds(b));
}


/** Every SLO alert this project can create, in rule order (docs/RUNBOOK.md has a section per entry). */
export const SLO_ALERTS: readonly AlertSummary[] = SLIS.flatMap((sli) =>
  BURN_ALERTS.map((alert) => ({
    name: sloAlertName(sli, alert),
    severity: alert.severity,
    meaning: `${sli.title} SLO: ${alert.severity === 'critical' ? 'page' : 'ticket'} when ${alert.budgetFraction * 100}% of the error budget (${alert.budgetFraction * 100}% of slo.${sli.key}.window) would be spent in ${alert.long}, confirmed over ${alert.short}.`,
    onlyWhen: sli.onlyWhen,
  })),
);

/** The SLIs an environment records (for the dashboard). */
export function enabledSlos(env: EnvironmentConfig): Array<{ key: SloKey; title: string; objective: number; window: string; bad: string }> {
  return SLIS.filter((s) => s.include(env)).map((s) => ({
    key: s.key,
    title: s.title,
    objective: env.slo[s.key].objective,
    window: env.slo[s.key].window,
    bad: s.bad(env),
  }));
}

/** `name{namespace="…", slo="…"}`: one recorded SLO series of this environment. */
export function sloSeries(env: EnvironmentConfig, name: string, key: SloKey): string {
  return selector(name, { namespace: env.namespace, slo: key });
}

/** The rule group of the SLOs: recording rules first (Prometheus evaluates a group in order), then the alerts. */
export function renderSloGroups(env: EnvironmentConfig): RuleGroup[] {
  const records: RecordingRule[] = [];
  const alerts: AlertRule[] = [];
  for (const sli of SLIS) {
    if (!sli.include(env)) continue;
    const slo = env.slo[sli.key];
    // A fresh object per rule: a shared one would come out as a YAML anchor and aliases.
    const labels = () => ({ namespace: env.namespace, slo: sli.key });
    const budget = errorBudget(slo.objective);
    const good = sli.good;
    if (good) records.push({ record: SLO_SERIES.good, expr: good(env), labels: labels() });
    for (const window of sloWindows(env, sli.key)) {
      const expr = good
        ? `1 - avg_over_time(${sloSeries(env, SLO_SERIES.good, sli.key)}[${window}])`
        : (sli.errorRatio as NonNullable<SliDefinition['errorRatio']>)(env, window);
      records.push({ record: SLO_SERIES.errorRatio(window), expr, labels: labels() });
    }
    records.push({ record: SLO_SERIES.objective, expr: `vector(${objectiveRatio(slo.objective)})`, labels: labels() });
    records.push({
      record: SLO_SERIES.budgetRemaining,
      expr: `1 - ${sloSeries(env, SLO_SERIES.errorRatio(slo.window), sli.key)} / ${budget}`,
      labels: labels(),
    });

    for (const alert of BURN_ALERTS) {
      const name = sloAlertName(sli, alert);
      const rate = burnRate(alert, slo.window);
      const over = (window: string) => `${sloSeries(env, SLO_SERIES.errorRatio(window), sli.key)} / ${budget} > ${rate}`;
      const page = alert.severity === 'critical';
      alerts.push({
        alert: name,
        expr: `(${over(alert.long)}) and (${over(alert.short)})`,
        labels: { severity: alert.severity, service: TARGETS.workload, environment: env.name, slo: sli.key },
        annotations: {
          summary: `Postfix relay ${sli.key} in {{ $labels.namespace }}: error budget burning ${page ? 'fast' : 'steadily'} (${rate}x over ${alert.long})`,
          description:
            `Over the last ${alert.long} the ${sli.key} error budget (objective ${slo.objective}% over ${slo.window}) burned {{ printf "%.1f" $value }}x as fast as the objective allows, ` +
            `and it still burns above ${rate}x over the last ${alert.short}: ${alert.budgetFraction * 100}% of the budget in ${alert.long}. A bad event is ${sli.bad(env)}.`,
          runbook_url: runbookUrl(env, name),
        },
      });
    }
  }
  const rules = [...records, ...alerts];
  return rules.length ? [{ name: `postfix-relay.${env.name}.slo`, rules }] : [];
}

/** The objective as a ratio (99.9 -> 0.999), without binary noise. */
export function objectiveRatio(objectivePercent: number): number {
  return Number((objectivePercent / 100).toPrecision(12));
}

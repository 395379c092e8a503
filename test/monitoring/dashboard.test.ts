import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { dashboardUid, METRICS, renderDashboard, TARGETS, type MetricInfo } from '../../src/monitoring';
import { dashboardExprs, metricFor, selectorsIn, usedSeriesNames, withEverything } from './support/queries';

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const load = (name: string) => loadEnvironmentFile(`environments/${name}.yaml`);
const prod = load('prod');

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ expr: string; datasource: { uid: string }; refId: string }>;
  fieldConfig?: { defaults: { thresholds: { steps: Array<{ value: number | null }> } } };
}
const panels = (env: EnvironmentConfig) => (renderDashboard(env).panels as Panel[]).filter((p) => p.type !== 'row');
const panel = (env: EnvironmentConfig, title: string) => {
  const found = panels(env).find((p) => p.title === title);
  if (!found) throw new Error(`no panel "${title}"`);
  return found;
};

describe('renderDashboard', () => {
  it('derives a stable uid from the environment name (Grafana allows 40 characters)', () => {
    expect(renderDashboard(prod).uid).toBe('email-server-prod');
    const long = 'a'.repeat(40);
    expect(dashboardUid({ name: long })).toHaveLength(40);
    expect(dashboardUid({ name: long })).toBe(dashboardUid({ name: long }));
    expect(dashboardUid({ name: long })).not.toBe(dashboardUid({ name: `${'a'.repeat(39)}b` }));
  });

  it('is deterministic', () => {
    expect(JSON.stringify(renderDashboard(prod))).toBe(JSON.stringify(renderDashboard(structuredClone(prod))));
  });

  it('takes the data source from a template variable on every panel and query', () => {
    const d = renderDashboard(prod) as { templating: { list: Array<{ name: string; type: string; query: unknown }> } };
    expect(d.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    for (const p of panels(prod)) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.datasource.uid).toBe('${datasource}');
    }
  });

  it('offers a pod variable whose "All" is this workload only', () => {
    const d = renderDashboard(prod) as { templating: { list: Array<Record<string, unknown>> } };
    const pod = d.templating.list.find((v) => v.name === 'pod');
    expect(pod).toMatchObject({ includeAll: true, multi: true, allValue: 'postfix-relay-([0-9]+|[a-z0-9]+-[a-z0-9]{5})' });
    expect(pod?.definition).toBe('label_values(up{namespace="email-server-prod", job="postfix-relay-metrics"}, pod)');
  });

  it('shows queue size and age, throughput, deferrals, bounces, rejections, TLS and resources per pod', () => {
    const uses = (title: string, series: string) => expect(dashboardExprs(panel(prod, title)).join('\n'), title).toContain(series);
    uses('Queue size', 'postfix_showq_message_size_bytes_count');
    uses('Queue age', 'postfix_showq_message_age_seconds_bucket');
    uses('Messages in and out', 'postfix_smtp_messages_processed_total');
    uses('Messages in and out', 'postfix_cleanup_messages_processed_total');
    uses('Deferrals by DSN', 'postfix_smtp_deferred_messages_by_dsn_total');
    uses('Bounces by DSN', 'postfix_smtp_bounced_messages_by_dsn_total');
    uses('Client commands rejected by SMTP code', 'postfix_smtpd_messages_rejected_total');
    uses('TLS sessions by trust and protocol', 'postfix_smtp_tls_connections_total');
    uses('CPU', 'container_cpu_usage_seconds_total');
    uses('Memory used / limit', 'container_memory_working_set_bytes');
    uses('CPU throttling', 'container_cpu_cfs_throttled_periods_total');
    uses('Restarts', 'kube_pod_container_status_restarts_total');
    expect(dashboardExprs(panel(prod, 'Queue size')).join()).not.toMatch(/rate\(postfix_showq/);
  });

  it('draws the alert thresholds of the environment', () => {
    const red = (env: EnvironmentConfig, title: string) => panel(env, title).fieldConfig?.defaults.thresholds.steps.at(-1)?.value;
    expect(red(prod, 'Queue size')).toBe(prod.alerts.queueSize);
    const dev = load('dev');
    expect(red(dev, 'Queue size')).toBe(20);
    expect(red(prod, 'Bounce rate')).toBe(prod.alerts.bounceRatePerSecond);
    expect(red(prod, 'Memory used / limit')).toBe(prod.alerts.memoryLimitRatio);
  });

  it('shows the autoscaler only where it exists', () => {
    expect(panels(prod).map((p) => p.title)).toContain('Replicas and autoscaler maximum');
    expect(panels(load('dev')).map((p) => p.title)).not.toContain('Replicas and autoscaler maximum');
  });

  it.each(ENVIRONMENTS)('%s: scopes every query to the namespace and the pod variable', (name) => {
    const env = load(name);
    for (const expr of dashboardExprs(renderDashboard(env))) {
      for (const sel of selectorsIn(expr)) {
        expect(sel.matchers, expr).toContain(`namespace="${env.namespace}"`);
        const source = metricFor(sel.name)?.source;
        if (source === 'kumina-0.3.0' || source === 'hsn723' || source === 'prometheus') {
          expect(sel.matchers).toContain(`job="${TARGETS.metricsService}"`);
          expect(sel.matchers).toContain('pod=~"$pod"');
        }
        if (source === 'cadvisor') expect(sel.matchers).toContain('container=~"postfix|exporter"');
      }
    }
  });

  it('lays panels out without overlaps and with unique ids', () => {
    const all = renderDashboard(prod).panels as Panel[];
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    const cells = new Set<string>();
    for (const p of all) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          expect(cells.has(key), `${p.title} overlaps at ${key}`).toBe(false);
          cells.add(key);
        }
      }
    }
    for (const p of panels(prod)) expect(p.targets?.map((t) => t.refId)).toEqual(['A', 'B', 'C', 'D'].slice(0, p.targets?.length));
  });

  it('matches its snapshot', () => {
    expect(renderDashboard(prod)).toMatchSnapshot();
  });
});

describe('METRICS covers the rules and the dashboard exactly', () => {
  it('lists every series name used, and every entry is used somewhere', () => {
    const used = new Set<string>();
    for (const name of ENVIRONMENTS) for (const env of [load(name), withEverything(load(name))]) for (const s of usedSeriesNames(env)) used.add(s);
    const families = new Set<MetricInfo>();
    for (const series of used) {
      const info = metricFor(series);
      expect(info, `${series} is listed in src/monitoring/metrics.ts`).toBeDefined();
      if (info) families.add(info);
    }
    for (const info of Object.values(METRICS) as MetricInfo[]) expect(families.has(info), `${info.name} is used`).toBe(true);
  });
});

describe('the SLO row', () => {
  const everything = withEverything(prod);
  const sloPanels = (env: EnvironmentConfig) => {
    const all = renderDashboard(env).panels as Panel[];
    const start = all.findIndex((p) => p.type === 'row' && p.title === 'Service level objectives');
    if (start < 0) return [];
    const end = all.findIndex((p, i) => i > start && p.type === 'row');
    return all.slice(start + 1, end < 0 ? undefined : end);
  };

  it('comes first and shows, per SLO, the SLI over its window against the objective, the budget left and the burn rate', () => {
    expect((renderDashboard(everything).panels as Panel[])[0]?.title).toBe('Service level objectives');
    expect(sloPanels(everything).map((p) => p.title)).toEqual([
      'SMTP probe (what clients see)',
      ...['Availability', 'Delivery', 'Latency'].flatMap((t) => [`${t} SLI (30d)`, `${t} error budget left`, `${t} burn rate`]),
    ]);
    const sli = panel(everything, 'Availability SLI (30d)');
    expect(dashboardExprs(sli)).toEqual(['1 - postfix_relay_slo:sli_error:ratio_rate30d{namespace="email-server-prod", slo="availability"}']);
    // Red below the objective, green from it.
    expect(sli.fieldConfig?.defaults.thresholds.steps).toEqual([
      { color: 'red', value: null },
      { color: 'green', value: 0.999 },
    ]);
    expect(dashboardExprs(panel(everything, 'Delivery error budget left'))).toEqual(['postfix_relay_slo:error_budget:remaining_ratio{namespace="email-server-prod", slo="delivery"}']);
    expect(dashboardExprs(panel(everything, 'Latency burn rate'))).toEqual(
      ['1h', '6h', '3d'].map((w) => `postfix_relay_slo:sli_error:ratio_rate${w}{namespace="email-server-prod", slo="latency"} / 0.01`),
    );
    expect(panel(everything, 'Availability burn rate').fieldConfig?.defaults.thresholds.steps.at(-1)?.value).toBe(14.4);
  });

  it('follows the objective and the window of each SLO', () => {
    const env: EnvironmentConfig = { ...prod, slo: { ...prod.slo, delivery: { ...prod.slo.delivery, objective: 99.5, window: '7d' } } };
    const sli = panel(env, 'Delivery SLI (7d)');
    expect(sli.fieldConfig?.defaults.thresholds.steps.at(-1)?.value).toBe(0.995);
    expect(dashboardExprs(sli)[0]).toContain('ratio_rate7d{');
    expect(panel(env, 'Delivery burn rate').fieldConfig?.defaults.thresholds.steps.at(-1)?.value).toBe(3.36);
  });

  it('shows the probe only with probe.enabled, and no SLO row where no SLO is recorded', () => {
    expect(sloPanels(prod).map((p) => p.title)).not.toContain('SMTP probe (what clients see)');
    expect(dashboardExprs(panel(everything, 'SMTP probe (what clients see)')).join('\n')).toContain('probe_success{namespace="email-server-prod", job="postfix-relay-probe"}');
    const none: EnvironmentConfig = { ...prod, slo: { availability: { ...prod.slo.availability, enabled: false }, delivery: { ...prod.slo.delivery, enabled: false }, latency: prod.slo.latency } };
    expect(sloPanels(none)).toEqual([]);
  });
});

import type { EnvironmentConfig } from '../config/schema';
import { TARGETS } from './metrics';
import type { Matcher } from './promql';

/** What every rule file of this project shares: where an environment's series live, and its runbook. */

/** GitHub's heading anchor of a runbook section titled with the alert name. */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

export function runbookUrl(env: EnvironmentConfig, alert: string): string {
  return `${env.alerts.runbookBaseUrl}#${runbookAnchor(alert)}`;
}

/** Selects the exporter's series of this environment: its namespace and the metrics Service (job). */
export function exporterSelector(env: EnvironmentConfig): Record<string, Matcher> {
  return { namespace: env.namespace, job: TARGETS.metricsService };
}

/** Selects the probe's series of this environment: the Probe's namespace and its jobName. */
export function probeSelector(env: EnvironmentConfig): Record<string, Matcher> {
  return { namespace: env.namespace, job: TARGETS.probeJob };
}

/**
 * Whether the exporter's series exist with the labels the rules select on: without the sidecar
 * or the ServiceMonitor (job = the metrics Service), `absent(up{...})` would page forever.
 */
export function exporterScraped(env: EnvironmentConfig): boolean {
  return env.metrics.enabled && env.serviceMonitor.enabled;
}

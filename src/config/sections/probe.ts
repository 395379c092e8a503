import { z } from 'zod';
import { duration, labels } from '../formats';
import { seconds } from './durations';

/**
 * The client-side SMTP probe: a prometheus-operator `Probe` that has the user's blackbox exporter
 * hold an SMTP conversation with the relay's Service, and the exporter module it uses
 * (src/monitoring/blackbox.ts renders both; docs/SLO.md shows the snippet).
 */

/** The blackbox exporter chart's Service, with a release named like the chart, in `monitoring`. */
export const DEFAULT_PROBER_URL = 'http://prometheus-blackbox-exporter.monitoring.svc:9115';

const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

export const probeSection = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Create a prometheus-operator Probe: the blackbox exporter at probe.proberUrl connects to the relay Service as applications do and holds an SMTP conversation (banner, EHLO, MAIL FROM, RCPT TO, RSET, QUIT; no message is sent). Its result feeds PostfixRelayDown and the availability SLO. The exporter needs the module of docs/SLO.md in its configuration.',
      ),
    proberUrl: z
      .string()
      .default(DEFAULT_PROBER_URL)
      .describe('Scheme and host:port of the blackbox exporter that runs the probe (no path): where Prometheus sends /probe requests.'),
    module: z
      .string()
      .regex(MODULE_NAME, { message: 'must be a blackbox exporter module name: letters, digits, "_", "." and "-", at most 63 characters' })
      .optional()
      .describe('Name of the module in the blackbox exporter configuration. Defaults to `postfix-relay-<environment>`: the module holds the environment\'s sender domain, so environments that share one exporter each get their own.'),
    interval: duration.default('30s').describe('How often the relay is probed.'),
    timeout: duration
      .default('10s')
      .describe('How long one SMTP conversation may take before the probe counts as failed (the module\'s timeout). The Probe\'s scrape timeout is one second longer; both must fit in probe.interval.'),
    clusterDomain: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { message: 'must be a DNS domain such as cluster.local' })
      .default('cluster.local')
      .describe('The cluster\'s DNS domain: the probe dials postfix-relay.<namespace>.svc.<clusterDomain>:25, the name applications use.'),
    proberNamespaceLabels: labels
      .default({ 'kubernetes.io/metadata.name': 'monitoring' })
      .describe('Labels of the namespace the blackbox exporter runs in. The NetworkPolicy admits SMTP from pods that match probe.proberPodLabels in namespaces that match these, and from no other pod of those namespaces.'),
    proberPodLabels: labels
      .default({ 'app.kubernetes.io/name': 'prometheus-blackbox-exporter' })
      .describe('Labels of the blackbox exporter pods (the chart sets app.kubernetes.io/name: prometheus-blackbox-exporter).'),
  })
  .strict();

type Issue = (path: (string | number)[], message: string) => void;

interface ProbeView {
  readonly probe: z.output<typeof probeSection>;
}

/** `http(s)://host[:port]` with nothing else, or why not. */
export function proberUrlProblem(url: string): string | undefined {
  const example = 'http://prometheus-blackbox-exporter.monitoring.svc:9115';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return `must be an http(s) URL of a blackbox exporter (scheme and host:port), such as ${example}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be an http(s) URL of a blackbox exporter (scheme and host:port), such as ${example}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `must be an http or https URL (Prometheus scrapes the blackbox exporter over HTTP), not ${parsed.protocol.replace(/:$/, '')}`;
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash || (parsed.pathname !== '/' && parsed.pathname !== '')) {
    return `must be the scheme and host:port only, such as ${example} (the Probe adds the /probe path)`;
  }
  return undefined;
}

/** The namespace of an in-cluster Service name (`svc.ns.svc[.domain]`), if the host is one. */
export function serviceNamespaceOf(url: string): string | undefined {
  try {
    const host = new URL(url).hostname;
    const m = /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.|$)/.exec(host);
    return m?.[1];
  } catch {
    return undefined;
  }
}

/** Cross-field checks of `probe` (called from the schema's superRefine). */
export function checkProbe(env: ProbeView, issue: Issue): void {
  const p = env.probe;
  const urlProblem = proberUrlProblem(p.proberUrl);
  if (urlProblem) issue(['probe', 'proberUrl'], urlProblem);
  if (!p.enabled) return;

  if (Object.keys(p.proberPodLabels).length === 0) {
    issue(['probe', 'proberPodLabels'], 'must name at least one label: an empty selector admits every pod of the prober namespaces, not the prober alone');
  }
  if (Object.keys(p.proberNamespaceLabels).length === 0) {
    issue(['probe', 'proberNamespaceLabels'], 'must name at least one label: an empty selector admits matching pods of every namespace');
  }
  const urlNamespace = serviceNamespaceOf(p.proberUrl);
  const labelled = p.proberNamespaceLabels['kubernetes.io/metadata.name'];
  if (urlNamespace !== undefined && labelled !== undefined && labelled !== urlNamespace) {
    issue(
      ['probe', 'proberNamespaceLabels'],
      `select namespace "${labelled}", but probe.proberUrl points at a Service in namespace "${urlNamespace}": the NetworkPolicy would admit no prober pod and every probe would fail`,
    );
  }
  const isDuration = (d: string) => duration.safeParse(d).success;
  if (isDuration(p.interval) && isDuration(p.timeout) && seconds(p.timeout) + 1 > seconds(p.interval)) {
    issue(['probe', 'timeout'], `${p.timeout} plus the one-second scrape margin must fit in probe.interval (${p.interval})`);
  }
}

import { Construct } from 'constructs';
import { Probe, ProbeSpecProberScheme } from '../../imports/monitoring.coreos.com';
import type { EnvironmentConfig } from '../config/schema';
import { durationSeconds, formatDuration } from '../monitoring/promql';
import { probeModuleName, probeTarget, renderBlackboxConfig } from '../monitoring/blackbox';
import { TARGETS } from '../monitoring/metrics';
import { RELAY_NAME } from './labels';

export interface RelayProbeProps {
  readonly config: EnvironmentConfig;
  /** Labels of the Probe object (the Prometheus selects Probes by them). */
  readonly labels: Record<string, string>;
}

/** Annotation on the Probe holding the exporter configuration snippet its module needs (docs/SLO.md). */
export const MODULE_ANNOTATION = 'email-server.kubernetes.io/blackbox-module';

/**
 * The client-side probe (probe.enabled): a prometheus-operator Probe that has the blackbox
 * exporter at probe.proberUrl hold the SMTP conversation of src/monitoring/blackbox.ts with the
 * relay Service, by the name applications use. Its `probe_success` carries job =
 * postfix-relay-probe (spec.jobName), namespace = this namespace and instance = the target.
 */
export class RelayProbe extends Construct {
  public readonly resource: Probe;
  /** The blackbox exporter module the Probe asks for. */
  public readonly module: string;
  /** host:port the probe dials. */
  public readonly target: string;

  constructor(scope: Construct, id: string, props: RelayProbeProps) {
    super(scope, id);
    const env = props.config;
    const prober = new URL(env.probe.proberUrl);
    const defaultPort = prober.protocol === 'https:' ? '443' : '80';
    this.module = probeModuleName(env);
    this.target = probeTarget(env);
    this.resource = new Probe(this, 'Resource', {
      metadata: {
        name: RELAY_NAME,
        namespace: env.namespace,
        labels: props.labels,
        // What to add to the blackbox exporter's configuration for this Probe to work:
        // kubectl get probe postfix-relay -o jsonpath='{.metadata.annotations.email-server\.kubernetes\.io/blackbox-module}'
        annotations: { [MODULE_ANNOTATION]: renderBlackboxConfig(env) },
      },
      spec: {
        jobName: TARGETS.probeJob,
        prober: {
          url: `${prober.hostname}:${prober.port || defaultPort}`,
          scheme: prober.protocol === 'https:' ? ProbeSpecProberScheme.HTTPS : ProbeSpecProberScheme.HTTP,
          path: '/probe',
        },
        module: this.module,
        interval: env.probe.interval,
        // The exporter takes the module's timeout, capped by this minus its 0.5 s offset.
        scrapeTimeout: formatDuration(Math.ceil(durationSeconds(env.probe.timeout)) + 1),
        targets: { staticConfig: { static: [this.target] } },
      },
    });
  }
}

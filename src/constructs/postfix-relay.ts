import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/schema';
import { commonLabels, selectorLabels } from './labels';
import { PostfixConfig } from './postfix-config';
import { RelayAvailability } from './relay-availability';
import { RelayMonitoring } from './relay-monitoring';
import { RelayNetworkPolicy } from './relay-network-policy';
import { RelayServices } from './relay-services';
import { RelayWorkload } from './relay-workload';

export interface PostfixRelayProps {
  /** The validated environment (src/config/schema.ts); every default is already resolved. */
  readonly config: EnvironmentConfig;
}

/**
 * The SMTP relay (L3): configuration, pods, Services, NetworkPolicy, disruption budget,
 * autoscaler and monitoring, wired to each other by labels and named ports.
 */
export class PostfixRelay extends Construct {
  public readonly config: PostfixConfig;
  public readonly workload: RelayWorkload;
  public readonly services: RelayServices;
  public readonly networkPolicy: RelayNetworkPolicy;
  public readonly availability: RelayAvailability;
  public readonly monitoring: RelayMonitoring;

  constructor(scope: Construct, id: string, props: PostfixRelayProps) {
    super(scope, id);
    const env = props.config;
    const selector = selectorLabels(env);

    this.config = new PostfixConfig(this, 'Config', { config: env });
    this.services = new RelayServices(this, 'Services', { config: env, selector });
    this.workload = new RelayWorkload(this, 'Workload', {
      config: env,
      configMapName: this.config.name,
      configChecksum: this.config.checksum,
      labels: commonLabels(env, 'relay'),
      selector,
      headlessServiceName: this.services.headless.name,
    });
    this.networkPolicy = new RelayNetworkPolicy(this, 'NetworkPolicy', { config: env, selector });
    this.availability = new RelayAvailability(this, 'Availability', {
      config: env,
      selector,
      target: { apiVersion: this.workload.apiVersion, kind: this.workload.kind, name: this.workload.name },
    });
    this.monitoring = new RelayMonitoring(this, 'Monitoring', { config: env, metricsServiceSelector: this.services.metricsSelector });
  }
}

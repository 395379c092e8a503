import type * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import { IntOrString, Quantity } from 'cdk8s-plus-28/lib/imports/k8s';
import type { EnvironmentConfig } from '../config/schema';
import { CONFIG_CHECKSUM_ANNOTATION } from '../config/sections/pod';
import { POSTFIX_CAPABILITIES } from '../postfix/capabilities';
import { MONITOR_GID } from '../postfix/entrypoint';
import { relayAuthVolumes } from './relay-auth-volumes';
import { DRAIN_PATH, ENTRYPOINT_PATH, EXPORTER_CONTAINER, EXPORTER_UID, PATHS, POSTFIX_CONTAINER, SHOWQ_SOCKET, SMTP_PORT } from '../postfix/layout';

/** Named ports: Services and the ServiceMonitor refer to these names, never to numbers. */
export const PORT_NAMES = { smtp: 'smtp', metrics: 'metrics' } as const;

export const VOLUMES = { config: 'config', queue: 'queue', data: 'data', log: 'log', tmp: 'tmp' } as const;

export interface RelayPodProps {
  readonly config: EnvironmentConfig;
  readonly configMapName: string;
  /** sha256 of the rendered configuration, annotated on the pod so a change rolls the pods. */
  readonly configChecksum: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
}

function imageRef(img: EnvironmentConfig['image']): string {
  return `${img.repository}:${img.tag}${img.digest ? `@${img.digest}` : ''}`;
}

function resources(r: EnvironmentConfig['resources']): k8s.ResourceRequirements {
  return {
    requests: { cpu: Quantity.fromString(r.requests.cpu), memory: Quantity.fromString(r.requests.memory) },
    limits: { cpu: Quantity.fromString(r.limits.cpu), memory: Quantity.fromString(r.limits.memory) },
  };
}

function postfixContainer(env: EnvironmentConfig): k8s.Container {
  const tcp = { tcpSocket: { port: IntOrString.fromString(PORT_NAMES.smtp) } };
  const p = env.probes;
  return {
    name: POSTFIX_CONTAINER,
    image: imageRef(env.image),
    imagePullPolicy: env.image.pullPolicy,
    // The image's run.sh rewrites main.cf on start; ours runs the rendered files as they are.
    command: ['/bin/sh', ENTRYPOINT_PATH],
    ports: [{ name: PORT_NAMES.smtp, containerPort: SMTP_PORT, protocol: 'TCP' }],
    resources: resources(env.resources),
    securityContext: {
      // The Postfix master must start as root; it drops privileges per daemon. What root may
      // do is cut down to the capabilities proven necessary (test/integration/capabilities).
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: POSTFIX_CAPABILITIES.map((c) => c.name) },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    startupProbe: { ...tcp, periodSeconds: p.periodSeconds, timeoutSeconds: p.timeoutSeconds, failureThreshold: p.startupFailureThreshold },
    livenessProbe: {
      ...tcp,
      initialDelaySeconds: p.initialDelaySeconds,
      periodSeconds: p.periodSeconds,
      timeoutSeconds: p.timeoutSeconds,
      failureThreshold: p.failureThreshold,
    },
    readinessProbe: {
      ...tcp,
      initialDelaySeconds: p.initialDelaySeconds,
      periodSeconds: p.periodSeconds,
      timeoutSeconds: p.timeoutSeconds,
      failureThreshold: p.failureThreshold,
    },
    lifecycle: { preStop: { exec: { command: ['/bin/sh', DRAIN_PATH] } } },
    volumeMounts: [
      { name: VOLUMES.config, mountPath: PATHS.configDir, readOnly: true },
      { name: VOLUMES.queue, mountPath: PATHS.queueDir },
      { name: VOLUMES.data, mountPath: PATHS.dataDir },
      { name: VOLUMES.log, mountPath: PATHS.logDir },
      { name: VOLUMES.tmp, mountPath: PATHS.tmpDir },
      ...relayAuthVolumes(env).mounts,
    ],
  };
}

function exporterContainer(env: EnvironmentConfig): k8s.Container {
  const m = env.metrics;
  // TCP, not GET /metrics: a scrape walks the whole queue (showq), which is slow exactly when
  // Gmail is down and the queue is long; pod readiness must never depend on it, or the relay
  // would leave the Service when clients need it most.
  const tcp = { tcpSocket: { port: IntOrString.fromString(PORT_NAMES.metrics) } };
  return {
    name: EXPORTER_CONTAINER,
    image: imageRef(m.image),
    imagePullPolicy: m.image.pullPolicy,
    args: [
      `--web.listen-address=:${m.port}`,
      `--postfix.showq_path=${SHOWQ_SOCKET}`,
      `--postfix.logfile_path=${PATHS.logFile}`,
      // The exporter may start before the entrypoint has created the log file.
      '--no-postfix.logfile_must_exist',
    ],
    ports: [{ name: PORT_NAMES.metrics, containerPort: m.port, protocol: 'TCP' }],
    resources: resources(m.resources),
    securityContext: {
      runAsUser: EXPORTER_UID,
      // The entrypoint gives the log file and showq's public/ directory to this group.
      runAsGroup: MONITOR_GID,
      runAsNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    livenessProbe: { ...tcp, initialDelaySeconds: 10, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
    readinessProbe: { ...tcp, initialDelaySeconds: 5, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 3 },
    volumeMounts: [
      { name: VOLUMES.queue, mountPath: PATHS.queueDir, readOnly: true },
      { name: VOLUMES.log, mountPath: PATHS.logDir, readOnly: true },
    ],
  };
}

/** The pull Secrets of the pod: those of the Postfix image, then those of the exporter's, each once. */
export function imagePullSecrets(env: EnvironmentConfig): k8s.LocalObjectReference[] | undefined {
  const names = [...env.image.pullSecrets, ...(env.metrics.enabled ? env.metrics.image.pullSecrets : [])];
  return names.length ? [...new Set(names)].map((name) => ({ name })) : undefined;
}

/** Node selection, tolerations, node affinity and priority; unset fields stay out of the manifest. */
function scheduling(env: EnvironmentConfig): Pick<k8s.PodSpec, 'nodeSelector' | 'tolerations' | 'affinity' | 'priorityClassName'> {
  const s = env.scheduling;
  return {
    nodeSelector: Object.keys(s.nodeSelector).length ? s.nodeSelector : undefined,
    tolerations: s.tolerations.length ? s.tolerations : undefined,
    affinity: s.affinity.nodeAffinity ? { nodeAffinity: s.affinity.nodeAffinity } : undefined,
    priorityClassName: s.priorityClassName,
  };
}

/** The relay's pod template, shared by the Deployment and the StatefulSet. */
export function relayPodTemplate(props: RelayPodProps): k8s.PodTemplateSpec {
  const env = props.config;
  const volumes: k8s.Volume[] = [
    { name: VOLUMES.config, configMap: { name: props.configMapName, defaultMode: 0o444 } },
    { name: VOLUMES.data, emptyDir: { sizeLimit: Quantity.fromString('64Mi') } },
    { name: VOLUMES.log, emptyDir: { sizeLimit: Quantity.fromString(env.metrics.logSizeLimit) } },
    { name: VOLUMES.tmp, emptyDir: { medium: 'Memory', sizeLimit: Quantity.fromString('16Mi') } },
    ...relayAuthVolumes(env).volumes,
  ];
  if (!env.queue.persistence.enabled) {
    volumes.splice(1, 0, { name: VOLUMES.queue, emptyDir: { sizeLimit: Quantity.fromString(env.queue.persistence.size) } });
  }
  const spread = env.topologySpread;
  return {
    metadata: {
      // The chart's labels win over pod.labels (the schema refuses app.kubernetes.io/* there).
      labels: { ...env.pod.labels, ...props.labels },
      annotations: { ...env.pod.annotations, [CONFIG_CHECKSUM_ANNOTATION]: props.configChecksum },
    },
    spec: {
      ...scheduling(env),
      imagePullSecrets: imagePullSecrets(env),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: env.terminationGracePeriodSeconds,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: env.metrics.enabled ? [postfixContainer(env), exporterContainer(env)] : [postfixContainer(env)],
      volumes,
      topologySpreadConstraints: spread.enabled
        ? [
            {
              maxSkew: spread.maxSkew,
              topologyKey: spread.topologyKey,
              whenUnsatisfiable: spread.whenUnsatisfiable,
              labelSelector: { matchLabels: props.selector },
            },
          ]
        : undefined,
    },
  };
}

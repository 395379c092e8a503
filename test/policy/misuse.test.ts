import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { IntOrString, KubeHorizontalPodAutoscalerV2, KubeService } from 'cdk8s-plus-28/lib/imports/k8s';
import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { buildApp, validateApp, ValidationError } from '../../src/synth';

/**
 * Construct misuse: the environment file is valid, but code around the constructs renders
 * something unsafe. The checks run as cdk8s node validations in the real app, the way synth runs
 * them, and each case must be refused with its message.
 */

function prodChart(name: 'dev' | 'staging' | 'prod' = 'prod') {
  const env = loadEnvironmentFile(`environments/${name}.yaml`);
  const { app, charts } = buildApp([env]);
  return { app, chart: charts.get(env)! };
}

function object(chart: Chart, kind: string, name?: string): ApiObject {
  const found = chart.node.findAll().find((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === kind && (name === undefined || c.name === name));
  if (!found) throw new Error(`no ${kind}/${name ?? '*'} in the chart`);
  return found;
}

function failures(app: Parameters<typeof validateApp>[0]): readonly string[] {
  try {
    validateApp(app);
  } catch (err) {
    if (err instanceof ValidationError) return err.failures;
    throw err;
  }
  return [];
}

const PF = 'spec.template.spec.containers[postfix]';

describe('construct misuse is refused at synth', () => {
  it('the unmodified charts pass', () => {
    for (const name of ['dev', 'staging', 'prod'] as const) expect(failures(prodChart(name).app)).toEqual([]);
  });

  it('a sidecar added without resources or probes', () => {
    const { app, chart } = prodChart('staging');
    object(chart, 'Deployment').addJsonPatch(
      JsonPatch.add('/spec/template/spec/containers/-', {
        name: 'debug',
        image: 'busybox:1.36',
        securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      }),
    );
    const f = failures(app);
    expect(f).toContain('[resources.requests-limits] staging: Deployment/postfix-relay: spec.template.spec.containers[debug].resources.requests.cpu: must be set (every container declares requests and limits for cpu and memory) (got nothing)');
    expect(f).toContain('[probes.present] staging: Deployment/postfix-relay: spec.template.spec.containers[debug].livenessProbe: must be set (a probe with a tcpSocket, httpGet, grpc or exec handler) (got nothing)');
    expect(f.filter((m) => m.includes('containers[debug]'))).toHaveLength(6);
  });

  it('an image override to latest in production', () => {
    const { app, chart } = prodChart();
    object(chart, 'StatefulSet').addJsonPatch(JsonPatch.replace('/spec/template/spec/containers/0/image', 'juanluisbaptiste/postfix:latest'));
    expect(failures(app)).toEqual([
      `[images.pinned] prod: StatefulSet/postfix-relay: ${PF}.image: must pin a released tag or a digest in the production tier, not latest (got "juanluisbaptiste/postfix:latest")`,
    ]);
  });

  it('a renderer that writes opportunistic TLS into main.cf', () => {
    const { app, chart } = prodChart();
    const cm = object(chart, 'ConfigMap', 'postfix-config');
    const mainCf = (cm.toJson() as { data: Record<string, string> }).data['main.cf']!;
    cm.addJsonPatch(JsonPatch.replace('/data/main.cf', mainCf.replace('smtp_tls_security_level = secure', 'smtp_tls_security_level = may')));
    expect(failures(app)).toEqual([
      '[tls.relay-level] prod: ConfigMap/postfix-config: data.main.cf: smtp_tls_security_level: must be at least "encrypt" (mail could leave in clear text); use "secure" (got "may")',
    ]);
  });

  it('a renderer that opens mynetworks to the world', () => {
    const { app, chart } = prodChart('staging');
    const cm = object(chart, 'ConfigMap', 'postfix-config');
    const mainCf = (cm.toJson() as { data: Record<string, string> }).data['main.cf']!;
    cm.addJsonPatch(JsonPatch.replace('/data/main.cf', mainCf.replace(/^mynetworks = .*$/m, 'mynetworks = 0.0.0.0/0')));
    expect(failures(app)).toEqual([
      '[network.mynetworks-within-cluster] staging: ConfigMap/postfix-config: data.main.cf: mynetworks: must never be a /0 network (an open relay) (got "0.0.0.0/0")',
    ]);
  });

  it('an extra capability for postfix', () => {
    const { app, chart } = prodChart();
    object(chart, 'StatefulSet').addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities/add/-', 'NET_RAW'));
    const f = failures(app);
    expect(f).toHaveLength(2);
    expect(f[0]).toBe(`[pss.baseline] prod: StatefulSet/postfix-relay: ${PF}.securityContext.capabilities.add: may only add AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT (got ["NET_RAW"])`);
    expect(f[1]).toMatch(/^\[pss\.postfix-capabilities\] prod: StatefulSet\/postfix-relay: .*capabilities\.add: must be exactly CHOWN, DAC_OVERRIDE, FOWNER, NET_BIND_SERVICE, SETGID, SETUID .*"NET_RAW"\]\)$/);
  });

  it('a Service for pods that do not exist, on a port nobody listens on', () => {
    const { app, chart } = prodChart('dev');
    new KubeService(chart, 'Stray', {
      metadata: { name: 'postfix-submission', namespace: 'email-server-dev' },
      spec: { selector: { 'app.kubernetes.io/name': 'postfix-submission' }, ports: [{ name: 'submission', port: 587 }] },
    });
    const f = failures(app);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatch(/^\[refs\.service-selector\] dev: Service\/postfix-submission: spec\.selector: must select the pods of a workload in the chart/);
  });

  it('an HPA for a Deployment in an environment that runs a StatefulSet, next to the real one', () => {
    const { app, chart } = prodChart();
    new KubeHorizontalPodAutoscalerV2(chart, 'StrayHpa', {
      metadata: { name: 'postfix-relay-extra', namespace: 'email-server-prod' },
      spec: { minReplicas: 2, maxReplicas: 4, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'postfix-relay' } },
    });
    expect(failures(app)).toEqual([
      '[refs.hpa-target] prod: HorizontalPodAutoscaler/postfix-relay-extra: spec.scaleTargetRef: must name a workload of the chart (apps/v1 StatefulSet/postfix-relay) (got {"apiVersion":"apps/v1","kind":"Deployment","name":"postfix-relay"})',
    ]);
  });

  it('replicas written next to the HPA', () => {
    const { app, chart } = prodChart();
    object(chart, 'StatefulSet').addJsonPatch(JsonPatch.add('/spec/replicas', 2));
    expect(failures(app)).toEqual([
      '[availability.no-replicas-with-hpa] prod: StatefulSet/postfix-relay: spec.replicas: must be unset: HorizontalPodAutoscaler/postfix-relay owns the replica count (got 2)',
    ]);
  });

  it('a NetworkPolicy without Egress', () => {
    const { app, chart } = prodChart('staging');
    object(chart, 'NetworkPolicy').addJsonPatch(JsonPatch.replace('/spec/policyTypes', ['Ingress']));
    expect(failures(app)).toEqual([
      '[network.default-deny] staging: NetworkPolicy/postfix-relay: spec.policyTypes: must list Ingress and Egress (missing Egress) (got ["Ingress"])',
    ]);
  });

  it('the namespace stops enforcing baseline', () => {
    const { app, chart } = prodChart();
    object(chart, 'Namespace').addJsonPatch(JsonPatch.remove('/metadata/labels/pod-security.kubernetes.io~1enforce'));
    expect(failures(app)).toEqual([
      '[pss.namespace-labels] prod: Namespace/email-server-prod: metadata.labels.pod-security.kubernetes.io/enforce: must be baseline (got nothing)',
    ]);
  });

  it('a field of the wrong type (schema)', () => {
    const { app, chart } = prodChart('staging');
    object(chart, 'Service', 'postfix-relay-metrics').addJsonPatch(JsonPatch.replace('/spec/ports/0/port', '8080'));
    expect(failures(app)).toEqual(['[schema] staging: Service/postfix-relay-metrics: spec.ports[0].port: must be integer (got "8080")']);
  });

  it('a kind without a schema in the environment chart', () => {
    const { app, chart } = prodChart('dev');
    new ApiObject(chart, 'Stray', { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'email-server-dev', namespace: 'email-server-dev' } });
    const f = failures(app);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatch(/^\[schema\] dev: Application\/email-server-dev: apiVersion, kind: must be a kind this project can validate \(.*\) \(got "argoproj\.io\/v1alpha1 Application"\)$/);
  });

  it('an object added without a namespace', () => {
    const { app, chart } = prodChart('staging');
    new KubeService(chart, 'NoNamespace', {
      metadata: { name: 'postfix-relay-extra' },
      spec: { selector: { 'app.kubernetes.io/name': 'postfix-relay', 'app.kubernetes.io/instance': 'staging' }, ports: [{ name: 'smtp', port: 25, targetPort: IntOrString.fromString('smtp') }] },
    });
    expect(failures(app)).toContain(
      "[meta.namespace] staging: Service/postfix-relay-extra: metadata.namespace: must be email-server-staging (the environment's namespace) (got nothing)",
    );
  });

  it('cdk8s App.synth itself refuses too, before writing', () => {
    const { app, chart } = prodChart();
    object(chart, 'StatefulSet').addJsonPatch(JsonPatch.replace('/spec/template/spec/containers/0/image', 'juanluisbaptiste/postfix'));
    expect(() => app.synth()).toThrow(/\[images\.pinned\] prod: StatefulSet\/postfix-relay: .*must pin a tag or digest in the production tier/);
  });
});

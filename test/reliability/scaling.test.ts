import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { renderDrainScript } from '../../src/postfix/drain';
import { CONFIG_FILES, DRAIN_PATH, PATHS, POSTFIX_CONTAINER } from '../../src/postfix/layout';
import { renderEnvironments } from '../../src/synth';

/**
 * Conservative scaling and disruption settings, read from the synthesized manifests of every
 * environment: what keeps accepted mail safe when Kubernetes removes pods on purpose.
 */

// Loose views of the manifest fields these tests read.
type Obj = { kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> };

const ENVIRONMENTS = ['dev', 'staging', 'prod'].map((name) => loadEnvironmentFile(`environments/${name}.yaml`));
const rendered = new Map(renderEnvironments(ENVIRONMENTS).map((m) => [m.env.name, m.objects as unknown as Obj[]]));

const objects = (env: EnvironmentConfig) => rendered.get(env.name)!;
const find = (env: EnvironmentConfig, kind: string, name?: string) =>
  objects(env).filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (env: EnvironmentConfig, kind: string, name?: string) => {
  const found = find(env, kind, name);
  expect(found, `${env.name}: exactly one ${kind}${name ? ` ${name}` : ''}`).toHaveLength(1);
  return found[0]!;
};
const workload = (env: EnvironmentConfig) => one(env, env.queue.persistence.enabled ? 'StatefulSet' : 'Deployment');
const minPods = (env: EnvironmentConfig) => (env.autoscaling.enabled ? env.autoscaling.minReplicas : env.replicas);
const postfixContainer = (env: EnvironmentConfig) =>
  workload(env).spec.template.spec.containers.find((c: { name: string }) => c.name === POSTFIX_CONTAINER);

const each = ENVIRONMENTS.map((env) => [env.name, env] as const);
const autoscaled = ENVIRONMENTS.filter((e) => e.autoscaling.enabled).map((env) => [env.name, env] as const);
const withPdb = ENVIRONMENTS.filter((e) => e.podDisruptionBudget.enabled).map((env) => [env.name, env] as const);

describe('conservative scale-down (HPA)', () => {
  it('prod and staging autoscale', () => {
    expect(autoscaled.map(([name]) => name).sort()).toEqual(['prod', 'staging']);
  });

  it.each(autoscaled)('%s: waits at least 10 minutes and removes one pod per period', (_name, env) => {
    const hpa = one(env, 'HorizontalPodAutoscaler');
    const down = hpa.spec.behavior.scaleDown;
    expect(down.stabilizationWindowSeconds).toBeGreaterThanOrEqual(600);
    expect(down.selectPolicy).not.toBe('Max');
    expect(down.policies.length).toBeGreaterThan(0);
    for (const policy of down.policies) {
      expect(policy).toMatchObject({ type: 'Pods', value: 1 });
      expect(policy.periodSeconds).toBeGreaterThanOrEqual(60);
    }
  });

  it.each(autoscaled)('%s: scales the relay workload and never below two pods', (_name, env) => {
    const hpa = one(env, 'HorizontalPodAutoscaler');
    const target = workload(env);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: target.kind, name: target.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    // The HPA owns the count: a replicas field would make every GitOps sync fight it.
    expect(target.spec.replicas).toBeUndefined();
  });
});

describe('voluntary disruptions (PodDisruptionBudget)', () => {
  it('prod and staging have one', () => {
    expect(withPdb.map(([name]) => name).sort()).toEqual(['prod', 'staging']);
  });

  it.each(withPdb)('%s: keeps a pod serving, yet lets a node drain (minAvailable below the minimum pod count)', (_name, env) => {
    const pdb = one(env, 'PodDisruptionBudget');
    const minAvailable = pdb.spec.minAvailable;
    expect(minAvailable).toBeGreaterThanOrEqual(1);
    expect(minAvailable).toBeLessThan(minPods(env));
    expect(pdb.spec.maxUnavailable).toBeUndefined();
    expect(pdb.spec.selector.matchLabels).toEqual(workload(env).spec.selector.matchLabels);
  });
});

describe('rolling updates never take the last ready pod', () => {
  it.each(ENVIRONMENTS.filter((e) => !e.queue.persistence.enabled).map((env) => [env.name, env] as const))(
    '%s (Deployment): a new pod is ready before an old one goes (maxUnavailable 0)',
    (_name, env) => {
      const strategy = workload(env).spec.strategy;
      expect(strategy.type).toBe('RollingUpdate');
      expect(strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
    },
  );

  it.each(ENVIRONMENTS.filter((e) => e.queue.persistence.enabled).map((env) => [env.name, env] as const))(
    '%s (StatefulSet): one pod at a time, every pod updated, at least two pods',
    (_name, env) => {
      const spec = workload(env).spec;
      // A StatefulSet cannot surge: it replaces one pod at a time, so a second pod must serve meanwhile.
      expect(spec.updateStrategy.type).toBe('RollingUpdate');
      expect(spec.updateStrategy.rollingUpdate?.partition ?? 0).toBe(0);
      expect(spec.updateStrategy.rollingUpdate?.maxUnavailable ?? 1).toBe(1);
      expect(['Parallel', 'OrderedReady']).toContain(spec.podManagementPolicy ?? 'OrderedReady');
      expect(minPods(env)).toBeGreaterThanOrEqual(2);
    },
  );
});

describe('durable queue (queue.persistence)', () => {
  it('prod keeps its queue on volumes, dev and staging do not', () => {
    expect(ENVIRONMENTS.filter((e) => e.queue.persistence.enabled).map((e) => e.name)).toEqual(['prod']);
  });

  it.each(ENVIRONMENTS.filter((e) => e.queue.persistence.enabled).map((env) => [env.name, env] as const))(
    '%s: a StatefulSet with one queue PVC per pod, mounted at the queue directory, named by the headless Service',
    (_name, env) => {
      const spec = workload(env).spec;
      expect(spec.serviceName).toBe('postfix-relay-headless');
      const headless = one(env, 'Service', 'postfix-relay-headless');
      expect(headless.spec.clusterIP ?? headless.spec.clusterIp).toBe('None');
      expect(spec.volumeClaimTemplates).toHaveLength(1);
      const claim = spec.volumeClaimTemplates[0];
      expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
      expect(claim.spec.resources.requests.storage).toBe(env.queue.persistence.size);
      const mount = postfixContainer(env).volumeMounts.find((m: { mountPath: string }) => m.mountPath === PATHS.queueDir);
      expect(mount?.name).toBe(claim.metadata.name);
      // No emptyDir shadows the claim.
      expect((spec.template.spec.volumes ?? []).map((v: { name: string }) => v.name)).not.toContain(claim.metadata.name);
      // Mail left on the volume of a pod removed by scale-down must survive until it is recovered.
      expect(spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain').toBe('Retain');
      expect(spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain').toBe('Retain');
    },
  );
});

describe('graceful shutdown', () => {
  it.each(each)('%s: preStop runs drain.sh from the ConfigMap, within terminationGracePeriodSeconds', (_name, env) => {
    const pod = workload(env).spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(env.terminationGracePeriodSeconds);
    expect(postfixContainer(env).lifecycle.preStop.exec.command).toEqual(['/bin/sh', DRAIN_PATH]);
    expect(one(env, 'ConfigMap', 'postfix-config').data![CONFIG_FILES.drain]).toBe(renderDrainScript(env));
    expect(env.queue.drainDeadlineSeconds + 10).toBeLessThanOrEqual(env.terminationGracePeriodSeconds);
  });
});

import { describe, expect, it } from 'vitest';
import { validateObjectSchemas } from '../../src/policy';
import { SCHEMA_KINDS } from '../../src/policy/schema';
import { container, find, synthesized, workload } from './fixtures';

describe('validateObjectSchemas', () => {
  it('every shipped manifest validates against kubernetes-models and the prometheus-operator CRDs', () => {
    for (const name of ['dev', 'staging', 'prod'] as const) {
      const { objects } = synthesized(name);
      const kinds = new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`));
      for (const k of ['v1 Namespace', 'v1 ConfigMap', 'v1 Service', 'networking.k8s.io/v1 NetworkPolicy', 'monitoring.coreos.com/v1 ServiceMonitor', 'monitoring.coreos.com/v1 PrometheusRule']) {
        expect(kinds, `${name} has ${k}`).toContain(k);
      }
      for (const k of kinds) expect(SCHEMA_KINDS, `${name}: ${k} has a schema`).toContain(k);
      expect(validateObjectSchemas(name, objects)).toEqual([]);
    }
  });

  it('names the environment, object, field, expectation and bad value', () => {
    const { objects } = synthesized('staging');
    workload(objects).spec.template.spec.containers[0].ports[0].containerPort = '25';
    expect(validateObjectSchemas('staging', objects)).toEqual([
      '[schema] staging: Deployment/postfix-relay: spec.template.spec.containers[0].ports[0].containerPort: must be integer (got "25")',
    ]);
  });

  it('reports a missing required field under its own name', () => {
    const { objects } = synthesized('prod');
    delete container(objects, 'exporter').name;
    expect(validateObjectSchemas('prod', objects)).toEqual([
      '[schema] prod: StatefulSet/postfix-relay: spec.template.spec.containers[1].name: is required (got nothing)',
    ]);
  });

  it('lists the allowed values of an enum', () => {
    const { objects } = synthesized('prod');
    find(objects, 'PrometheusRule').spec.groups[0].partial_response_strategy = 'maybe';
    const [message] = validateObjectSchemas('prod', objects);
    expect(message).toMatch(/^\[schema\] prod: PrometheusRule\/postfix-relay: spec\.groups\[0\]\.partial_response_strategy: must (be one of|match pattern).* \(got "maybe"\)$/);
  });

  it('checks the ServiceMonitor against the CRD schema', () => {
    const { objects } = synthesized('prod');
    find(objects, 'ServiceMonitor').spec.endpoints[0].interval = 'every 30 seconds';
    const [message] = validateObjectSchemas('prod', objects);
    expect(message).toMatch(/^\[schema\] prod: ServiceMonitor\/postfix-relay: spec\.endpoints\[0\]\.interval: must match pattern ".*" \(got "every 30 seconds"\)$/);
  });

  it('checks IntOrString fields without repeating each alternative', () => {
    const { objects } = synthesized('staging');
    find(objects, 'PodDisruptionBudget').spec.minAvailable = { count: 1 };
    const messages = validateObjectSchemas('staging', objects);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^\[schema\] staging: PodDisruptionBudget\/postfix-relay: spec\.minAvailable: must be string or integer \(got \{"count":1\}\)$/);
  });

  it('refuses a wrong apiVersion and a kind it has no schema for', () => {
    const { objects } = synthesized('dev');
    find(objects, 'NetworkPolicy').apiVersion = 'extensions/v1beta1';
    objects.push({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'x' } });
    const messages = validateObjectSchemas('dev', objects);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^\[schema\] dev: NetworkPolicy\/postfix-relay: apiVersion, kind: must be a kind this project can validate \(.*\) \(got "extensions\/v1beta1 NetworkPolicy"\)$/);
    expect(messages[1]).toMatch(/^\[schema\] dev: Application\/x: apiVersion, kind: must be a kind this project can validate/);
  });

  it('decodes label keys with "/" in the field path', () => {
    const { objects } = synthesized('dev');
    find(objects, 'Service', 'postfix-relay').metadata.labels['app.kubernetes.io/name'] = 7;
    expect(validateObjectSchemas('dev', objects)).toEqual([
      '[schema] dev: Service/postfix-relay: metadata.labels.app.kubernetes.io/name: must be string (got 7)',
    ]);
  });
});

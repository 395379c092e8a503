import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnvironmentFile, parseEnvironment } from '../../src/config/load';
import { CROSS_FIELD_RULES, environmentJsonSchema, generatedDocs, JSON_SCHEMA_PATH, REFERENCE_PATH } from '../../scripts/gen-docs';
import { read, ROOT } from './markdown';

type Json = Record<string, unknown>;

describe('generated reference and JSON Schema', () => {
  const generated = generatedDocs(ROOT);

  for (const path of [REFERENCE_PATH, JSON_SCHEMA_PATH]) {
    it(`${path} is fresh (run \`npm run docs\` after changing src/config/schema.ts)`, () => {
      expect(read(path)).toBe(generated[path]);
    });
  }

  it('is deterministic', () => {
    expect(generatedDocs(ROOT)).toEqual(generated);
  });

  it('the reference lists every field of the schema with a description', () => {
    const leaves: string[] = [];
    const walk = (s: Json, prefix: string[]) => {
      for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, Json>)) {
        const path = [...prefix, key];
        expect(child.description, `${path.join('.')} has a description (.describe() in the schema)`).toBeTruthy();
        if (child.properties) walk(child, path);
        else leaves.push(path.join('.'));
      }
    };
    walk(environmentJsonSchema(), []);
    expect(leaves.length).toBeGreaterThan(60);
    const reference = generated[REFERENCE_PATH]!;
    for (const leaf of leaves) expect(reference).toContain(`| \`${leaf}\` |`);
  });

  const envDir = join(ROOT, 'environments');
  const envFiles = readdirSync(envDir).filter((f) => f.endsWith('.yaml'));

  for (const file of envFiles) {
    it(`environments/${file} points editors at the JSON Schema and uses only keys it knows`, () => {
      const text = read(`environments/${file}`);
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../docs/environment.schema.json');
      const unknown: string[] = [];
      const walk = (value: unknown, schema: Json, path: string[]) => {
        if (!value || typeof value !== 'object' || Array.isArray(value)) return;
        for (const [key, child] of Object.entries(value)) {
          const props = schema.properties as Record<string, Json> | undefined;
          const sub = props?.[key] ?? (typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as Json) : undefined);
          if (!sub) unknown.push([...path, key].join('.'));
          else walk(child, sub, [...path, key]);
        }
      };
      walk(parse(text), environmentJsonSchema(), []);
      expect(unknown).toEqual([]);
      const required = (environmentJsonSchema().required as string[]) ?? [];
      for (const key of required) expect(Object.keys(parse(text) as object)).toContain(key);
    });
  }
});

/** A minimal valid environment and, per documented cross-field rule, a change that breaks it. */
const BASE = {
  namespace: 'email-server-docs',
  mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] },
};
const VIOLATIONS: Record<string, { input: Json; path: string }> = {
  'image.tag, metrics.image.tag': { input: { image: { tag: 'latest' } }, path: 'image.tag' },
  'resources, metrics.resources': { input: { resources: { requests: { cpu: '300m' }, limits: { cpu: '200m' } } }, path: 'resources.limits.cpu' },
  'autoscaling.maxReplicas': { input: { autoscaling: { enabled: true, minReplicas: 4, maxReplicas: 3 } }, path: 'autoscaling.maxReplicas' },
  'podDisruptionBudget.minAvailable': { input: { replicas: 2, podDisruptionBudget: { minAvailable: 2 } }, path: 'podDisruptionBudget.minAvailable' },
  'metrics.port': { input: { metrics: { port: 25 } }, path: 'metrics.port' },
  'network.mynetworks': { input: { network: { mynetworks: ['0.0.0.0/0'] } }, path: 'network.mynetworks.0' },
  'relay.tlsSecurityLevel': { input: { relay: { tlsSecurityLevel: 'encrypt' } }, path: 'relay.tlsSecurityLevel' },
  'queue.drainDeadlineSeconds': { input: { terminationGracePeriodSeconds: 60, queue: { drainDeadlineSeconds: 55 } }, path: 'queue.drainDeadlineSeconds' },
  'scheduling.tolerations': { input: { scheduling: { tolerations: [{ key: 'a', operator: 'Exists', value: 'b' }] } }, path: 'scheduling.tolerations.0.value' },
  'scheduling.affinity': {
    input: { scheduling: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'In' }] }] } } } } },
    path: 'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.values',
  },
  'pod.labels, pod.annotations': { input: { pod: { labels: { 'app.kubernetes.io/instance': 'x' } } }, path: 'pod.labels.app.kubernetes.io/instance' },
  'service.loadBalancerSourceRanges': { input: { service: { type: 'LoadBalancer' } }, path: 'service.loadBalancerSourceRanges' },
  'probe.proberUrl': { input: { probe: { proberUrl: 'ftp://blackbox.monitoring.svc:9115' } }, path: 'probe.proberUrl' },
  'probe.proberPodLabels, probe.proberNamespaceLabels': { input: { probe: { enabled: true, proberPodLabels: {} } }, path: 'probe.proberPodLabels' },
  'probe.timeout': { input: { probe: { enabled: true, interval: '5s', timeout: '5s' } }, path: 'probe.timeout' },
  'slo.*.window': { input: { slo: { delivery: { window: '2d' } } }, path: 'slo.delivery.window' },
  'slo.*.objective': { input: { slo: { availability: { objective: 92 } } }, path: 'slo.availability.objective' },
};

describe('the defaults the reference shows are the ones the loader applies', () => {
  const resolved = parseEnvironment(BASE, 'docs.yaml') as unknown as Json;
  const rows = [...read(REFERENCE_PATH).matchAll(/^\| `([\w.]+)` \| ([^|]+) \| ((?:[^|\\]|\\\|)+) \|/gm)].map((m) => ({
    path: m[1]!,
    type: m[2]!.trim(),
    shown: m[3]!.trim(),
  }));

  it('finds the rows', () => {
    expect(rows.length).toBeGreaterThan(60);
  });

  // Fields of an optional object (argocd.automated) get their defaults only when the object is given.
  const optionalObjects = rows.filter((r) => r.type === 'object' && r.shown === 'unset').map((r) => `${r.path}.`);
  for (const row of rows) {
    if (row.type === 'object' || row.shown === '**required**' || optionalObjects.some((p) => row.path.startsWith(p))) continue;
    it(row.path, () => {
      let value: unknown = resolved;
      for (const key of row.path.split('.')) value = (value as Json | undefined)?.[key];
      if (row.shown === 'unset') {
        // mynetworks is filled in from clusterCidrs after validation (documented in its description).
        if (row.path === 'network.mynetworks') expect(value).toEqual((resolved.network as Json).clusterCidrs);
        else expect(value).toBeUndefined();
      } else {
        expect(`\`${typeof value === 'string' ? value : JSON.stringify(value)}\``).toBe(row.shown.replace(/\\\|/g, '|'));
      }
    });
  }
});

describe('the cross-field rules the reference lists are enforced', () => {
  it('the base environment is valid', () => {
    expect(() => parseEnvironment(BASE, 'docs.yaml')).not.toThrow();
  });

  it('every documented rule has a case here', () => {
    expect(CROSS_FIELD_RULES.map((r) => r.field).sort()).toEqual(Object.keys(VIOLATIONS).sort());
  });

  for (const [field, { input, path }] of Object.entries(VIOLATIONS)) {
    it(`${field}`, () => {
      let error: unknown;
      try {
        parseEnvironment({ ...BASE, ...input }, 'docs.yaml');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.path)).toContain(path);
    });
  }

  it('the prod environment loads', () => {
    expect(loadEnvironmentFile(join(ROOT, 'environments/prod.yaml')).namespace).toBe('email-server-prod');
  });
});

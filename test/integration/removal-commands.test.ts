/**
 * What each removal command of docs/EMAIL-SERVER-SETUP.md ("Removing an environment") deletes,
 * over the synthesized prod objects plus the queue claims its StatefulSet makes (issue 16, item 10).
 * The kubectl commands run as written, in order, through the REAL kubectl against a small API
 * server holding those objects (test/deploy/fake-apiserver.cjs: it evaluates selectors and
 * deletes a Namespace's contents with it); `helm uninstall` deletes what the real `helm template`
 * renders; Argo CD's cascading deletion and prune are modelled from its documented rules (label
 * tracking, `argocd.argoproj.io/sync-options`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { read, withoutFences } from '../docs/markdown';
import { tempDir } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { toolPath } = require('../../scripts/real-tools.cjs') as { toolPath: (tool: string) => string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startFakeApiServer } = require('../deploy/fake-apiserver.cjs') as {
  startFakeApiServer: (source: () => K8sObject[]) => Promise<{ url: string; deleted: K8sObject[]; objects: () => K8sObject[]; close: () => Promise<void> }>;
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

const NS = 'email-server-prod';
const APP = 'email-server-prod';
const id = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
const ids = (list: readonly K8sObject[]) => list.map(id).sort();

/** The removal section: its subsections' fenced commands, and the commands named in its prose. */
function removalSection() {
  const doc = read('docs/EMAIL-SERVER-SETUP.md');
  const start = doc.indexOf('\n## Removing an environment');
  expect(start, 'docs/EMAIL-SERVER-SETUP.md has a "Removing an environment" section').toBeGreaterThan(0);
  const rest = doc.slice(start + 1);
  const end = rest.indexOf('\n## ');
  const section = end < 0 ? rest : rest.slice(0, end);
  const parts = section.split(/\n### /).slice(1);
  // Fenced blocks, also indented ones inside list items.
  const commands = (text: string) =>
    [...text.matchAll(/^[ \t]*```[^\n]*\n([\s\S]*?)^[ \t]*```/gm)]
      .flatMap((f) => f[1]!.replace(/\\\n\s*/g, ' ').split('\n'))
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  return {
    prose: withoutFences(section),
    procedures: Object.fromEntries(parts.map((p) => [p.slice(0, p.indexOf('\n')).trim(), commands(p)])),
  };
}

let work: string;
let distObjects: K8sObject[];
let kustomized: K8sObject[];
let helmObjects: K8sObject[];
let claims: K8sObject[];
/** Objects of other namespaces, which no command may touch. */
const bystanders: K8sObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'my-app', labels: { 'email-server.kubernetes.io/smtp-access': 'true' } } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'my-app', labels: { 'app.kubernetes.io/name': 'postfix-relay' } } },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: APP, namespace: 'argocd' } },
];

/** The claims the StatefulSet controller makes: template metadata, plus the selector's labels. */
function claimsOf(sts: K8sObject, replicas: number): K8sObject[] {
  const spec = sts.spec as { selector: { matchLabels: Record<string, string> }; volumeClaimTemplates: K8sObject[] };
  return spec.volumeClaimTemplates.flatMap((t) =>
    Array.from({ length: replicas }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: `${t.metadata.name}-${sts.metadata.name}-${i}`,
        namespace: sts.metadata.namespace,
        labels: { ...t.metadata.labels, ...spec.selector.matchLabels },
        ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      },
    })),
  );
}

const cluster = (): K8sObject[] => [...distObjects, ...claims, ...bystanders];

beforeAll(() => {
  work = tempDir('removal-commands-');
  execFileSync('npm', ['run', '--silent', 'synth'], { env: { ...process.env, CDK8S_OUTDIR: join(work, 'dist') }, stdio: 'pipe' });
  const dir = join(work, 'dist', 'prod');
  const byFile = new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => [f, parse(readFileSync(join(dir, f), 'utf8')) as K8sObject]),
  );
  distObjects = [...byFile.values()];
  const kustomization = parse(readFileSync(join(dir, 'Kustomization'), 'utf8')) as { resources: string[] };
  kustomized = kustomization.resources.map((f) => byFile.get(f)!);
  const sts = distObjects.find((o) => o.kind === 'StatefulSet');
  expect(sts, 'prod runs a StatefulSet with queue volumes').toBeDefined();
  claims = claimsOf(sts!, 3); // e.g. the autoscaler once ran three pods
  const helm = execFileSync(toolPath('helm'), ['template', 'email-server', join(work, 'dist', 'helm', 'email-server-prod'), '--namespace', NS], { encoding: 'utf8' });
  helmObjects = parseAllDocuments(helm)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => Boolean(o?.kind));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs commands in order with the real kubectl against a fresh cluster; what each deleted. */
async function runKubectl(commands: readonly string[]): Promise<{ command: string; deleted: string[] }[]> {
  const api = await startFakeApiServer(cluster);
  const kubectl = toolPath('kubectl');
  const out: { command: string; deleted: string[] }[] = [];
  try {
    for (const command of commands) {
      const before = api.deleted.length;
      if (/^kubectl\b.*\bdelete\b/.test(command)) {
        // Asynchronously: the API server answers from this very process.
        const r = await new Promise<{ code: number; output: string }>((resolve) => {
          execFile(
            'sh',
            ['-c', command.replace(/^kubectl\b/, '"$KUBECTL" --server="$SERVER"')],
            { cwd: work, encoding: 'utf8', timeout: 60_000, env: { ...process.env, KUBECTL: kubectl, SERVER: api.url, KUBECONFIG: join(work, 'no-kubeconfig') } },
            (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
          );
        });
        // This API server empties a deleted Namespace at once (a real one takes seconds), so a
        // command that deletes the Namespace first finds the rest already gone: NotFound is fine.
        const errors = r.output.split('\n').filter((l) => /^Error/.test(l) && !/\(NotFound\)/.test(l));
        expect(r.code === 0 || (errors.length === 0 && /\(NotFound\)/.test(r.output)), `${command}\n${r.output}`).toBe(true);
      }
      out.push({ command, deleted: ids(api.deleted.slice(before)) });
    }
  } finally {
    await api.close();
  }
  return out;
}

describe('the documented removal commands, evaluated', () => {
  it('with kubectl: nothing is deleted before the queue check; then the relay without Namespace or claims; the claims and the Namespace last', async () => {
    const commands = removalSection().procedures['With kubectl']!;
    expect(commands.length).toBeGreaterThanOrEqual(4);
    const steps = await runKubectl(commands);
    const check = steps.findIndex((s) => s.command.includes('postqueue'));
    expect(check, 'the procedure checks the queues with postqueue').toBeGreaterThanOrEqual(0);
    expect(steps.slice(0, check + 1).flatMap((s) => s.deleted)).toEqual([]);

    const claimIds = ids(claims);
    const nsId = `Namespace/${NS}`;
    const firstDelete = steps.findIndex((s) => s.deleted.length);
    // The first deleting command removes exactly the relay: every object of dist/prod but the Namespace.
    expect(steps[firstDelete]!.deleted).toEqual(ids(distObjects.filter((o) => o.kind !== 'Namespace')));
    const claimStep = steps.findIndex((s) => s.deleted.some((d) => claimIds.includes(d)));
    const nsStep = steps.findIndex((s) => s.deleted.includes(nsId));
    expect(claimStep).toBeGreaterThan(firstDelete);
    expect(steps[claimStep]!.deleted).toEqual(claimIds);
    expect(nsStep).toBeGreaterThanOrEqual(claimStep);
    // In the end everything of the environment is gone, and nothing else.
    const all = steps.flatMap((s) => s.deleted).sort();
    expect(all).toEqual(ids([...distObjects, ...claims]));
  });

  it('the commands the section warns about really delete the queue claims', async () => {
    const { prose } = removalSection();
    expect(prose).toContain('`kubectl delete -k dist/prod/`');
    expect(prose).toContain('`kubectl delete namespace`');
    const [deleteK] = await runKubectl(['kubectl delete -k dist/prod/']);
    expect(deleteK!.deleted).toEqual(expect.arrayContaining([...ids(claims), `Namespace/${NS}`]));
    // The Kustomization lists the Namespace: that is why.
    expect(ids(kustomized)).toContain(`Namespace/${NS}`);
  });

  it('with Helm: helm uninstall deletes the chart objects, never the Namespace or the claims', async () => {
    const commands = removalSection().procedures['With Helm']!;
    expect(commands).toContain(`helm uninstall email-server --namespace ${NS}`);
    const deleted = ids(helmObjects);
    expect(deleted).not.toContain(`Namespace/${NS}`);
    for (const c of ids(claims)) expect(deleted).not.toContain(c);
    // ... and removes the whole relay (the chart renders dist/prod's objects but the Namespace).
    expect(deleted).toEqual(ids(distObjects.filter((o) => o.kind !== 'Namespace')));
  });
});

/**
 * Argo CD's documented rules: with label tracking (its default before 3.0) the Application's
 * resources are the objects in Git plus every live object labelled app.kubernetes.io/instance=<app>;
 * cascading deletion deletes them and pruning deletes those Git no longer has, except objects
 * annotated argocd.argoproj.io/sync-options with Delete=false (deletion) or Prune=false (prune).
 */
function argoKeeps(option: 'Delete' | 'Prune', o: K8sObject): boolean {
  const value = o.metadata.annotations?.['argocd.argoproj.io/sync-options'] ?? '';
  return value.split(',').map((s) => s.trim()).includes(`${option}=false`);
}

function argoManaged(): K8sObject[] {
  const inGit = new Set(ids(kustomized));
  const labelled = [...claims, ...bystanders].filter((o) => o.metadata.labels?.['app.kubernetes.io/instance'] === APP && !inGit.has(id(o)));
  return [...kustomized, ...labelled];
}

describe('Argo CD keeps the Namespace and the claims', () => {
  it('the claims count as the Application\'s resources under label tracking (why they need the annotation)', () => {
    expect(ids(argoManaged())).toEqual(expect.arrayContaining(ids(claims)));
  });

  it('cascading deletion of the Application (as documented) removes the relay, not the Namespace or the claims', () => {
    const commands = removalSection().procedures['With Argo CD']!;
    expect(commands).toContain(`argocd app delete argocd/${APP} --cascade`);
    const deleted = argoManaged().filter((o) => !argoKeeps('Delete', o));
    expect(ids(deleted)).not.toContain(`Namespace/${NS}`);
    for (const c of ids(claims)) expect(ids(deleted)).not.toContain(c);
    expect(ids(deleted)).toEqual(ids(distObjects.filter((o) => o.kind !== 'Namespace')));
  });

  it('a prune after the folder left Git removes the relay, not the Namespace or the claims', () => {
    const pruned = argoManaged().filter((o) => !argoKeeps('Prune', o));
    expect(ids(pruned)).not.toContain(`Namespace/${NS}`);
    for (const c of ids(claims)) expect(ids(pruned)).not.toContain(c);
  });
});

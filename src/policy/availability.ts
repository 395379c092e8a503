import { at, kindOf, nameOf, namespaceOf, podTemplates, sameNamespace, selectorMatches, str, subjectOf, type PodTemplate } from './objects';
import type { Finding, KubeObject, PolicyContext, PolicyRule } from './types';

/** The HPA that scales a workload, if any. */
export function hpaFor(objects: readonly KubeObject[], workload: KubeObject): KubeObject | undefined {
  return objects.find(
    (o) =>
      kindOf(o) === 'HorizontalPodAutoscaler' &&
      sameNamespace(namespaceOf(o), namespaceOf(workload)) &&
      at(o, 'spec', 'scaleTargetRef', 'kind') === kindOf(workload) &&
      at(o, 'spec', 'scaleTargetRef', 'name') === nameOf(workload),
  );
}

/** The fewest pods a workload runs: the HPA's minReplicas, else spec.replicas (Kubernetes' default 1). */
function minimumScale(objects: readonly KubeObject[], pod: PodTemplate): { count: number; source: string } {
  const hpa = hpaFor(objects, pod.owner);
  if (hpa) {
    const min = at(hpa, 'spec', 'minReplicas');
    return { count: typeof min === 'number' ? min : 1, source: `${subjectOf(hpa)} spec.minReplicas` };
  }
  const replicas = at(pod.owner, 'spec', 'replicas');
  return { count: typeof replicas === 'number' ? replicas : 1, source: `${pod.subject} spec.replicas` };
}

function scaled(value: unknown, total: number): number | undefined {
  if (typeof value === 'number') return value;
  const pct = /^([0-9]+)%$/.exec(str(value) ?? '');
  return pct ? Math.ceil((Number(pct[1]) * total) / 100) : undefined;
}

function pdbPairs(ctx: PolicyContext): { pdb: KubeObject; pod: PodTemplate }[] {
  const pods = podTemplates(ctx.objects).filter((p) => kindOf(p.owner) !== 'Pod');
  return ctx.objects
    .filter((o) => kindOf(o) === 'PodDisruptionBudget')
    .flatMap((pdb) =>
      pods
        .filter((p) => sameNamespace(p.namespace, namespaceOf(pdb)) && selectorMatches(at(pdb, 'spec', 'selector'), p.labels))
        .map((pod) => ({ pdb, pod })),
    );
}

export const pdbAllowsDisruption: PolicyRule = {
  id: 'availability.pdb-allows-disruption',
  doc: 'At the workload\'s minimum scale the PodDisruptionBudget still allows one voluntary disruption (or no node could ever be drained).',
  check: (ctx) => {
    const out: Finding[] = [];
    for (const { pdb, pod } of pdbPairs(ctx)) {
      const { count, source } = minimumScale(ctx.objects, pod);
      const minAvailable = at(pdb, 'spec', 'minAvailable');
      const maxUnavailable = at(pdb, 'spec', 'maxUnavailable');
      if (minAvailable === undefined && maxUnavailable === undefined) {
        out.push({ subject: subjectOf(pdb), path: 'spec.minAvailable', problem: 'must be set (or spec.maxUnavailable)', value: undefined });
        continue;
      }
      const field = minAvailable !== undefined ? 'minAvailable' : 'maxUnavailable';
      const raw = minAvailable ?? maxUnavailable;
      const n = scaled(raw, count);
      if (n === undefined) {
        out.push({ subject: subjectOf(pdb), path: `spec.${field}`, problem: 'must be a number or a percentage such as 50%', value: raw });
        continue;
      }
      const allowed = field === 'minAvailable' ? count - n : Math.min(n, count);
      if (allowed < 1) {
        out.push({
          subject: subjectOf(pdb),
          path: `spec.${field}`,
          problem: `must allow at least one voluntary disruption at the minimum scale of ${count} pod(s) (${source}): ${field === 'minAvailable' ? `at most ${count - 1}` : 'at least 1'}`,
          value: raw,
        });
      }
    }
    return out;
  },
};

export const hpaAbovePdb: PolicyRule = {
  id: 'availability.hpa-min-above-pdb',
  doc: 'With an HPA, spec.minReplicas is at least the PDB\'s minAvailable + 1.',
  check: (ctx) => {
    const out: Finding[] = [];
    for (const { pdb, pod } of pdbPairs(ctx)) {
      const hpa = hpaFor(ctx.objects, pod.owner);
      const minAvailable = at(pdb, 'spec', 'minAvailable');
      if (!hpa || typeof minAvailable !== 'number') continue;
      const min = at(hpa, 'spec', 'minReplicas') ?? 1;
      if (typeof min !== 'number' || min < minAvailable + 1) {
        out.push({ subject: subjectOf(hpa), path: 'spec.minReplicas', problem: `must be at least ${minAvailable + 1} (${subjectOf(pdb)} minAvailable ${minAvailable} + 1)`, value: min });
      }
    }
    return out;
  },
};

export const noReplicasWithHpa: PolicyRule = {
  id: 'availability.no-replicas-with-hpa',
  doc: 'A workload scaled by an HPA has no spec.replicas (a GitOps sync would fight the autoscaler).',
  check: ({ objects }) =>
    podTemplates(objects)
      .filter((p) => hpaFor(objects, p.owner) && at(p.owner, 'spec', 'replicas') !== undefined)
      .map((p) => ({
        subject: p.subject,
        path: 'spec.replicas',
        problem: `must be unset: ${subjectOf(hpaFor(objects, p.owner)!)} owns the replica count`,
        value: at(p.owner, 'spec', 'replicas'),
      })),
};

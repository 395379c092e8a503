import {
  arr,
  at,
  containersOf,
  kindOf,
  mapSelectorMatches,
  nameOf,
  namespaceOf,
  podTemplates,
  rec,
  sameNamespace,
  selectorMatches,
  str,
  stringMap,
  subjectOf,
  WORKLOAD_KINDS,
  type PodTemplate,
} from './objects';
import type { Finding, KubeObject, PolicyRule } from './types';

/** Every reference between objects of a chart points at something the chart contains. */

const ofKind = (objects: readonly KubeObject[], kind: string) => objects.filter((o) => kindOf(o) === kind);
const podsIn = (objects: readonly KubeObject[], ns: string | undefined) => podTemplates(objects).filter((p) => sameNamespace(p.namespace, ns));

function describeLabels(pods: readonly PodTemplate[]): string {
  return pods.length ? pods.map((p) => `${p.subject} ${JSON.stringify(p.labels)}`).join('; ') : 'no pods in the namespace';
}

function containerPorts(pod: PodTemplate): { name?: string; port?: number }[] {
  return containersOf(pod, ['containers']).flatMap((c) =>
    arr(c.container.ports).map((p) => ({ name: str(at(p, 'name')), port: typeof at(p, 'containerPort') === 'number' ? (at(p, 'containerPort') as number) : undefined })),
  );
}

export const workloadSelector: PolicyRule = {
  id: 'refs.workload-selector',
  doc: "A workload's spec.selector matches its own pod template labels (the API server refuses it otherwise).",
  check: ({ objects }) =>
    podTemplates(objects)
      .filter((p) => kindOf(p.owner) !== 'Pod' && kindOf(p.owner) !== 'Job' && kindOf(p.owner) !== 'CronJob')
      .filter((p) => {
        const sel = at(p.owner, 'spec', 'selector');
        const empty = !Object.keys(stringMap(at(sel, 'matchLabels'))).length && !arr(at(sel, 'matchExpressions')).length;
        return empty || !selectorMatches(sel, p.labels);
      })
      .map((p) => ({ subject: p.subject, path: 'spec.selector', problem: `must select the pod template labels ${JSON.stringify(p.labels)}`, value: at(p.owner, 'spec', 'selector') })),
};

export const serviceSelector: PolicyRule = {
  id: 'refs.service-selector',
  doc: 'Every Service selects the pods of a workload in the chart.',
  check: ({ objects }) =>
    ofKind(objects, 'Service')
      .filter((s) => at(s, 'spec', 'type') !== 'ExternalName')
      .filter((s) => !podsIn(objects, namespaceOf(s)).some((p) => mapSelectorMatches(at(s, 'spec', 'selector'), p.labels)))
      .map((s) => ({
        subject: subjectOf(s),
        path: 'spec.selector',
        problem: `must select the pods of a workload in the chart (pod labels: ${describeLabels(podsIn(objects, namespaceOf(s)))})`,
        value: at(s, 'spec', 'selector'),
      })),
};

export const serviceTargetPort: PolicyRule = {
  id: 'refs.service-target-port',
  doc: 'Every Service port\'s targetPort (default: port) is a port name or number declared by a container of every selected pod.',
  check: ({ objects }) => {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Service')) {
      const pods = podsIn(objects, namespaceOf(s)).filter((p) => mapSelectorMatches(at(s, 'spec', 'selector'), p.labels));
      arr(at(s, 'spec', 'ports')).forEach((sp, i) => {
        const target = at(sp, 'targetPort') ?? at(sp, 'port');
        const label = str(at(sp, 'name')) ?? String(i);
        for (const pod of pods) {
          const ports = containerPorts(pod);
          const ok = typeof target === 'number' ? ports.some((p) => p.port === target) : ports.some((p) => p.name === target);
          if (!ok) {
            const allowed = ports.map((p) => (p.name ? `${p.name} (${p.port})` : String(p.port))).join(', ') || 'none declared';
            out.push({ subject: subjectOf(s), path: `spec.ports[${label}].targetPort`, problem: `must be a container port of ${pod.subject}: ${allowed}`, value: target });
          }
        }
      });
    }
    return out;
  },
};

export const networkPolicySelector: PolicyRule = {
  id: 'refs.networkpolicy-selector',
  doc: "Every NetworkPolicy's podSelector selects the pods of a workload in the chart.",
  check: ({ objects }) =>
    ofKind(objects, 'NetworkPolicy')
      .filter((np) => {
        const sel = at(np, 'spec', 'podSelector');
        const pods = podsIn(objects, namespaceOf(np));
        return !pods.some((p) => selectorMatches(sel, p.labels));
      })
      .map((np) => ({
        subject: subjectOf(np),
        path: 'spec.podSelector',
        problem: `must select the pods of a workload in the chart (pod labels: ${describeLabels(podsIn(objects, namespaceOf(np)))})`,
        value: at(np, 'spec', 'podSelector'),
      })),
};

export const pdbSelector: PolicyRule = {
  id: 'refs.pdb-selector',
  doc: "Every PodDisruptionBudget's selector selects the pods of a workload in the chart.",
  check: ({ objects }) =>
    ofKind(objects, 'PodDisruptionBudget')
      .filter((pdb) => !podsIn(objects, namespaceOf(pdb)).some((p) => selectorMatches(at(pdb, 'spec', 'selector'), p.labels)))
      .map((pdb) => ({
        subject: subjectOf(pdb),
        path: 'spec.selector',
        problem: `must select the pods of a workload in the chart (pod labels: ${describeLabels(podsIn(objects, namespaceOf(pdb)))})`,
        value: at(pdb, 'spec', 'selector'),
      })),
};

export const hpaTarget: PolicyRule = {
  id: 'refs.hpa-target',
  doc: "Every HorizontalPodAutoscaler's scaleTargetRef names a workload of the chart (apiVersion, kind, name, namespace).",
  check: ({ objects }) =>
    ofKind(objects, 'HorizontalPodAutoscaler').flatMap((hpa) => {
      const ref = rec(at(hpa, 'spec', 'scaleTargetRef')) ?? {};
      const target = objects.find(
        (o) =>
          WORKLOAD_KINDS.includes(kindOf(o)) &&
          kindOf(o) === ref.kind &&
          nameOf(o) === ref.name &&
          (ref.apiVersion === undefined || ref.apiVersion === o.apiVersion) &&
          sameNamespace(namespaceOf(o), namespaceOf(hpa)),
      );
      if (target) return [];
      const candidates = objects.filter((o) => WORKLOAD_KINDS.includes(kindOf(o))).map((o) => `${String(o.apiVersion)} ${subjectOf(o)}`);
      return [{ subject: subjectOf(hpa), path: 'spec.scaleTargetRef', problem: `must name a workload of the chart (${candidates.join(', ') || 'none'})`, value: ref }];
    }),
};

export const serviceMonitorSelector: PolicyRule = {
  id: 'refs.servicemonitor-selector',
  doc: 'Every ServiceMonitor selects a Service of the chart, and each endpoint port is a named port of that Service.',
  check: ({ objects }) => {
    const out: Finding[] = [];
    for (const sm of ofKind(objects, 'ServiceMonitor')) {
      const nsSel = rec(at(sm, 'spec', 'namespaceSelector'));
      const names = arr(nsSel?.matchNames).map(String);
      const inScope = (svc: KubeObject) =>
        nsSel?.any === true ? true : names.length ? names.includes(namespaceOf(svc) ?? 'default') : sameNamespace(namespaceOf(svc), namespaceOf(sm));
      const services = ofKind(objects, 'Service').filter((svc) => inScope(svc) && selectorMatches(at(sm, 'spec', 'selector'), stringMap(at(svc, 'metadata', 'labels'))));
      if (!services.length) {
        const all = ofKind(objects, 'Service').map((s) => `${subjectOf(s)} ${JSON.stringify(stringMap(at(s, 'metadata', 'labels')))}`);
        out.push({ subject: subjectOf(sm), path: 'spec.selector', problem: `must select a Service of the chart (${all.join('; ') || 'none'})`, value: at(sm, 'spec', 'selector') });
        continue;
      }
      arr(at(sm, 'spec', 'endpoints')).forEach((ep, i) => {
        const port = at(ep, 'port');
        if (port === undefined) {
          if (at(ep, 'targetPort') === undefined) out.push({ subject: subjectOf(sm), path: `spec.endpoints[${i}].port`, problem: 'must name a Service port', value: undefined });
          return;
        }
        for (const svc of services) {
          const portNames = arr(at(svc, 'spec', 'ports')).map((p) => str(at(p, 'name'))).filter((n): n is string => !!n);
          if (!portNames.includes(String(port))) {
            out.push({ subject: subjectOf(sm), path: `spec.endpoints[${i}].port`, problem: `must be a named port of ${subjectOf(svc)} (${portNames.join(', ') || 'no named ports'})`, value: port });
          }
        }
      });
    }
    return out;
  },
};

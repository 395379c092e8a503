import { arr, at, kindOf, namespaceOf, podTemplates, stringMap, subjectOf } from './objects';
import type { Finding, KubeObject, PolicyRule } from './types';

/** Kinds without a namespace that may appear in a chart. */
const CLUSTER_SCOPED = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'StorageClass', 'CustomResourceDefinition'];

export const namespaced: PolicyRule = {
  id: 'meta.namespace',
  doc: "Every namespaced object names the environment's namespace explicitly.",
  check: ({ env, objects }) =>
    objects
      .filter((o) => !CLUSTER_SCOPED.includes(kindOf(o)) && namespaceOf(o) !== env.namespace)
      .map((o) => ({ subject: subjectOf(o), path: 'metadata.namespace', problem: `must be ${env.namespace} (the environment's namespace)`, value: namespaceOf(o) })),
};

const UNSTABLE_KEY = /^cdk8s\.io\//;

/** Every label selector of an object, with its path. */
function selectors(o: KubeObject): [string, Record<string, string>][] {
  const out: [string, Record<string, string>][] = [];
  const add = (path: string, value: unknown) => {
    const labels = { ...stringMap(at(value, 'matchLabels')) };
    for (const e of arr(at(value, 'matchExpressions'))) {
      const key = at(e, 'key');
      if (typeof key === 'string') labels[key] = '(expression)';
    }
    out.push([path, labels]);
  };
  switch (kindOf(o)) {
    case 'Service':
      out.push(['spec.selector', stringMap(at(o, 'spec', 'selector'))]);
      break;
    case 'NetworkPolicy':
      add('spec.podSelector', at(o, 'spec', 'podSelector'));
      break;
    case 'PodDisruptionBudget':
    case 'ServiceMonitor':
      add('spec.selector', at(o, 'spec', 'selector'));
      break;
    default:
      if (at(o, 'spec', 'selector') !== undefined) add('spec.selector', at(o, 'spec', 'selector'));
  }
  for (const pod of podTemplates([o])) {
    arr(pod.spec.topologySpreadConstraints).forEach((c, i) => add(`${pod.specPath}.topologySpreadConstraints[${i}].labelSelector`, at(c, 'labelSelector')));
  }
  return out;
}

export const stableSelectors: PolicyRule = {
  id: 'meta.stable-selectors',
  doc: 'No selector uses a cdk8s.io/* label: those change when a construct moves, and workload selectors are immutable.',
  check: ({ objects }) => {
    const out: Finding[] = [];
    for (const o of objects) {
      for (const [path, labels] of selectors(o)) {
        for (const key of Object.keys(labels).filter((k) => UNSTABLE_KEY.test(k))) {
          out.push({ subject: subjectOf(o), path: `${path}.${key}`, problem: 'must not be selected on (it changes when the construct tree changes); select on app.kubernetes.io/* labels', value: labels[key] });
        }
      }
    }
    return out;
  },
};

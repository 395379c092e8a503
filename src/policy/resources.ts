import { POSTFIX_CONTAINER } from '../postfix/layout';
import { allContainers, at, rec } from './objects';
import { parseQuantity } from './quantity';
import type { Finding, PolicyRule } from './types';

const RESOURCES = ['cpu', 'memory'] as const;

export const resourcesSet: PolicyRule = {
  id: 'resources.requests-limits',
  doc: 'Every container and init container sets requests and limits for cpu and memory.',
  check: ({ objects }) => {
    const out: Finding[] = [];
    for (const c of allContainers(objects, ['containers', 'initContainers'])) {
      for (const bound of ['requests', 'limits'] as const) {
        for (const r of RESOURCES) {
          const value = at(c.container, 'resources', bound, r);
          if (value === undefined) {
            out.push({ subject: c.pod.subject, path: `${c.path}.resources.${bound}.${r}`, problem: `must be set (every container declares requests and limits for ${RESOURCES.join(' and ')})`, value });
          } else if (parseQuantity(value) === undefined) {
            out.push({ subject: c.pod.subject, path: `${c.path}.resources.${bound}.${r}`, problem: 'must be a Kubernetes quantity such as 100m or 128Mi', value });
          }
        }
      }
    }
    return out;
  },
};

export const limitsCoverRequests: PolicyRule = {
  id: 'resources.limits-cover-requests',
  doc: 'Each limit is at or above its request.',
  check: ({ objects }) => {
    const out: Finding[] = [];
    for (const c of allContainers(objects, ['containers', 'initContainers'])) {
      for (const r of RESOURCES) {
        const request = at(c.container, 'resources', 'requests', r);
        const limit = at(c.container, 'resources', 'limits', r);
        const req = parseQuantity(request);
        const lim = parseQuantity(limit);
        if (req !== undefined && lim !== undefined && lim < req) {
          out.push({ subject: c.pod.subject, path: `${c.path}.resources.limits.${r}`, problem: `must be at or above the request ${String(request)}`, value: limit });
        }
      }
    }
    return out;
  },
};

export const probesPresent: PolicyRule = {
  id: 'probes.present',
  doc: `Every container has a liveness and a readiness probe; the ${POSTFIX_CONTAINER} container also a startup probe.`,
  check: ({ objects }) => {
    const out: Finding[] = [];
    for (const c of allContainers(objects, ['containers'])) {
      const wanted = ['livenessProbe', 'readinessProbe', ...(c.name === POSTFIX_CONTAINER ? ['startupProbe'] : [])];
      for (const probe of wanted) {
        if (!rec(c.container[probe])) {
          out.push({ subject: c.pod.subject, path: `${c.path}.${probe}`, problem: 'must be set (a probe with a tcpSocket, httpGet, grpc or exec handler)', value: c.container[probe] });
        }
      }
    }
    return out;
  },
};

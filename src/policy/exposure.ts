import { cidrContains, familiesCoveredWhole, isCidr } from '../config/formats';
import { loadBalancerRanges } from '../config/sections/service';
import { CONFIG_FILES, RELAY_NAME, SMTP_PORT } from '../postfix/layout';
import { parseMainCf, expand } from './main-cf';
import { toCidr, POSTFIX_CONFIGMAP } from './network';
import { arr, at, configMapFile, kindOf, mapSelectorMatches, nameOf, namespaceOf, podTemplates, sameNamespace, selectorMatches, str, subjectOf } from './objects';
import type { Finding, KubeObject, PolicyRule } from './types';

/**
 * What a Service exposes beyond the cluster. Only `postfix-relay` may be a LoadBalancer, only
 * when the environment asks for one, only on the SMTP port and only for its named client
 * ranges; those ranges, and nothing wider, are what the NetworkPolicy lets in and what
 * Postfix trusts (mynetworks). externalTrafficPolicy Local keeps the client's address, which
 * is what both of them decide on.
 */
export const loadBalancerExposure: PolicyRule = {
  id: 'network.load-balancer',
  doc: 'Only postfix-relay may be a LoadBalancer (no NodePort): port 25, externalTrafficPolicy Local, exactly service.loadBalancerSourceRanges (never /0 or a whole space), each let in by the NetworkPolicy and trusted by mynetworks.',
  check: ({ env, objects }) => {
    const out: Finding[] = [];
    const wanted = loadBalancerRanges(env);
    for (const svc of objects.filter((o) => kindOf(o) === 'Service')) {
      const type = str(at(svc, 'spec', 'type')) ?? 'ClusterIP';
      const f = (path: string, problem: string, value: unknown) => out.push({ subject: subjectOf(svc), path, problem, value });
      if (type === 'NodePort') f('spec.type', 'must not be NodePort (it opens the port on every node to every address)', type);
      if (type !== 'LoadBalancer') continue;
      if (nameOf(svc) !== RELAY_NAME || !wanted.length) {
        f('spec.type', `must be ClusterIP: only the ${RELAY_NAME} Service may be a LoadBalancer, and only with service.type LoadBalancer`, type);
        continue;
      }
      const ports = arr(at(svc, 'spec', 'ports')).map((p) => at(p, 'port'));
      if (ports.length !== 1 || ports[0] !== SMTP_PORT) f('spec.ports', `must expose only the SMTP port ${SMTP_PORT}`, ports);
      if (at(svc, 'spec', 'externalTrafficPolicy') !== 'Local') {
        f('spec.externalTrafficPolicy', 'must be Local: with Cluster the relay sees a node address instead of the client\'s, and mynetworks and the NetworkPolicy decide on the wrong address', at(svc, 'spec', 'externalTrafficPolicy'));
      }
      const ranges = arr(at(svc, 'spec', 'loadBalancerSourceRanges')).map(String);
      const path = 'spec.loadBalancerSourceRanges';
      if (!ranges.length) {
        f(path, 'must list the client networks (a LoadBalancer without source ranges admits every address: an open relay)', at(svc, 'spec', 'loadBalancerSourceRanges'));
        continue;
      }
      for (const r of ranges) if (!isCidr(r) || /\/0$/.test(r)) f(path, isCidr(r) ? 'must never hold a /0 network (an open relay)' : 'must hold CIDRs', r);
      const whole = familiesCoveredWhole(ranges);
      if (whole.length) f(path, `must not together cover every IPv${whole.join(' and IPv')} address (an open relay)`, ranges);
      if ([...ranges].sort().join() !== [...wanted].sort().join()) f(path, `must be exactly service.loadBalancerSourceRanges (${wanted.join(', ')})`, ranges);

      const pods = podTemplates(objects).filter((p) => sameNamespace(p.namespace, namespaceOf(svc)) && mapSelectorMatches(at(svc, 'spec', 'selector'), p.labels));
      const letIn = networkPolicyBlocks(objects, pods.map((p) => p.labels), namespaceOf(svc));
      const trusted = mynetworks(objects);
      for (const r of ranges.filter(isCidr)) {
        if (!letIn.includes(r)) f(path, `${r} must be let in on port ${SMTP_PORT} by the NetworkPolicy of the relay pods (an ipBlock of an ingress rule)`, r);
        if (!trusted.some((t) => cidrContains(t, r))) f(path, `${r} must be trusted by mynetworks in ${POSTFIX_CONFIGMAP} (or its clients are refused)`, r);
      }
    }
    return out;
  },
};

/** ipBlock CIDRs of the ingress rules that open the SMTP port to pods with any of `podLabels`. */
function networkPolicyBlocks(objects: readonly KubeObject[], podLabels: readonly Record<string, string>[], ns: string | undefined): string[] {
  const out: string[] = [];
  for (const np of objects.filter((o) => kindOf(o) === 'NetworkPolicy' && sameNamespace(namespaceOf(o), ns))) {
    if (!podLabels.some((l) => selectorMatches(at(np, 'spec', 'podSelector'), l))) continue;
    for (const rule of arr(at(np, 'spec', 'ingress'))) {
      const ports = arr(at(rule, 'ports'));
      const smtp = !ports.length || ports.some((p) => at(p, 'port') === SMTP_PORT || at(p, 'port') === 'smtp');
      if (!smtp) continue;
      for (const peer of arr(at(rule, 'from'))) {
        const cidr = str(at(peer, 'ipBlock', 'cidr'));
        if (cidr) out.push(cidr);
      }
    }
  }
  return out;
}

/** The literal networks of the rendered main.cf's mynetworks. */
function mynetworks(objects: readonly KubeObject[]): string[] {
  const { text } = configMapFile(objects, POSTFIX_CONFIGMAP, CONFIG_FILES.mainCf);
  if (text === undefined) return [];
  const params = parseMainCf(text);
  const raw = params.get('mynetworks') ?? '';
  return expand(raw, params)
    .split(/[\s,]+/)
    .filter((e) => e && !e.startsWith('!'))
    .map(toCidr)
    .filter((c): c is string => !!c);
}

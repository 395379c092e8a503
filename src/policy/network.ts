import { isIP } from 'node:net';
import { cidrContains, familiesCoveredWhole, isCidr } from '../config/formats';
import { loadBalancerRanges } from '../config/sections/service';
import { CONFIG_FILES } from '../postfix/layout';
import { parseMainCf, expand } from './main-cf';
import { arr, at, configMapFile, kindOf, namespaceOf, podTemplates, sameNamespace, selectorMatches, str, subjectOf } from './objects';
import type { Finding, PolicyContext, PolicyRule } from './types';

export const POSTFIX_CONFIGMAP = 'postfix-config';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const TYPES = ['Ingress', 'Egress'];

const policies = (objects: Parameters<PolicyRule['check']>[0]['objects']) => objects.filter((o) => kindOf(o) === 'NetworkPolicy');

export const defaultDeny: PolicyRule = {
  id: 'network.default-deny',
  doc: 'Every NetworkPolicy lists both policyTypes (Ingress and Egress), and every pod of the chart is selected by one: traffic not allowed is denied both ways.',
  check: ({ objects }) => {
    const out: Finding[] = [];
    const nps = policies(objects);
    for (const np of nps) {
      const types = arr(at(np, 'spec', 'policyTypes')).map(String);
      const missing = TYPES.filter((t) => !types.includes(t));
      if (missing.length) out.push({ subject: subjectOf(np), path: 'spec.policyTypes', problem: `must list Ingress and Egress (missing ${missing.join(', ')})`, value: at(np, 'spec', 'policyTypes') });
    }
    for (const pod of podTemplates(objects)) {
      const covered = nps.some((np) => sameNamespace(namespaceOf(np), pod.namespace) && selectorMatches(at(np, 'spec', 'podSelector'), pod.labels));
      if (!covered) out.push({ subject: pod.subject, path: `${pod.specPath.replace(/spec$/, 'metadata')}.labels`, problem: 'must be selected by a NetworkPolicy of the chart', value: pod.labels });
    }
    return out;
  },
};

/** A mynetworks / ipBlock entry as a CIDR, or undefined when it is not a literal network. */
export function toCidr(entry: string): string | undefined {
  const m = /^\[([^\]]+)\](?:\/([0-9]{1,3}))?$/.exec(entry);
  const [address, prefix] = m ? [m[1]!, m[2]] : entry.split('/', 2);
  const family = isIP(address ?? '');
  if (!family) return undefined;
  const cidr = `${address}/${prefix ?? (family === 4 ? 32 : 128)}`;
  return isCidr(cidr) ? cidr : undefined;
}

/**
 * Why a client network is too wide, if it is: it must lie inside the cluster networks or inside
 * one of the LoadBalancer's client ranges (service.loadBalancerSourceRanges, LoadBalancer only).
 */
function widerThan(env: PolicyContext['env'], cidr: string): string | undefined {
  if (/\/0$/.test(cidr)) return 'must never be a /0 network (an open relay)';
  const cluster = env.network.clusterCidrs;
  const lb = loadBalancerRanges(env);
  if (!cluster.some((c) => cidrContains(c, cidr)) && !lb.some((r) => cidrContains(r, cidr))) {
    return `must lie inside network.clusterCidrs (${cluster.join(', ')})${lb.length ? ` or service.loadBalancerSourceRanges (${lb.join(', ')})` : ''}`;
  }
  return undefined;
}

/** Networks that add up to a whole address space (a /0 alone has its own message). */
function coversWhole(cidrs: readonly string[]): string | undefined {
  const families = familiesCoveredWhole(cidrs.filter((c) => !/\/0$/.test(c)));
  return families.length ? `must not together cover every IPv${families.join(' and IPv')} address (an open relay)` : undefined;
}

export const ingressSources: PolicyRule = {
  id: 'network.ingress-sources',
  doc: 'Every NetworkPolicy ingress rule names its sources; an ipBlock lies inside network.clusterCidrs or service.loadBalancerSourceRanges, is never /0, and the ipBlocks together never cover a whole address space.',
  check: ({ env, objects }) => {
    const out: Finding[] = [];
    for (const np of policies(objects)) {
      arr(at(np, 'spec', 'ingress')).forEach((rule, i) => {
        const from = arr(at(rule, 'from'));
        if (!from.length) {
          out.push({ subject: subjectOf(np), path: `spec.ingress[${i}].from`, problem: 'must list the allowed sources (an empty list admits every client)', value: at(rule, 'from') });
        }
        from.forEach((peer, j) => {
          const cidr = str(at(peer, 'ipBlock', 'cidr'));
          if (cidr === undefined) return;
          const problem = toCidr(cidr) ? widerThan(env, toCidr(cidr)!) : 'must be a CIDR';
          if (problem) out.push({ subject: subjectOf(np), path: `spec.ingress[${i}].from[${j}].ipBlock.cidr`, problem, value: cidr });
        });
      });
      const blocks = arr(at(np, 'spec', 'ingress')).flatMap((rule) => arr(at(rule, 'from')).map((peer) => str(at(peer, 'ipBlock', 'cidr')))).filter((c): c is string => !!c && isCidr(c));
      const whole = coversWhole(blocks);
      if (whole) out.push({ subject: subjectOf(np), path: 'spec.ingress[*].from[*].ipBlock.cidr', problem: whole, value: blocks });
    }
    return out;
  },
};

export const mynetworksWithinCluster: PolicyRule = {
  id: 'network.mynetworks-within-cluster',
  doc: 'Postfix mynetworks (environment and rendered main.cf) lists only literal networks inside network.clusterCidrs or service.loadBalancerSourceRanges (loopback aside), never /0, never together a whole address space.',
  check: ({ env, objects }) => {
    const out: Finding[] = [];
    env.network.mynetworks.forEach((net, i) => {
      const cidr = toCidr(net);
      const problem = cidr ? widerThan(env, cidr) : 'must be a CIDR';
      if (problem) out.push({ subject: `environment/${env.name}`, path: `network.mynetworks[${i}]`, problem, value: net });
    });
    const { object, text } = configMapFile(objects, POSTFIX_CONFIGMAP, CONFIG_FILES.mainCf);
    const subject = `ConfigMap/${POSTFIX_CONFIGMAP}`;
    const path = `data.${CONFIG_FILES.mainCf}: mynetworks`;
    if (text === undefined) {
      out.push({ subject, path: `data.${CONFIG_FILES.mainCf}`, problem: 'must hold the rendered main.cf', value: object ? Object.keys((at(object, 'data') ?? {}) as object) : undefined });
      return out;
    }
    const params = parseMainCf(text);
    const raw = params.get('mynetworks');
    if (raw === undefined) {
      out.push({ subject, path, problem: 'must be set explicitly (the client networks allowed to relay)', value: undefined });
      return out;
    }
    const trusted: string[] = [];
    for (const entry of expand(raw, params).split(/[\s,]+/).filter(Boolean)) {
      if (entry.startsWith('!')) continue;
      const cidr = toCidr(entry);
      if (!cidr) {
        out.push({ subject, path, problem: 'must list literal networks (lookup tables and files cannot be checked)', value: entry });
        continue;
      }
      trusted.push(cidr);
      if (LOOPBACK.some((l) => cidrContains(l, cidr))) continue;
      const problem = widerThan(env, cidr);
      if (problem) out.push({ subject, path, problem, value: entry });
    }
    const whole = coversWhole(trusted);
    if (whole) out.push({ subject, path, problem: whole, value: raw });
    return out;
  },
};

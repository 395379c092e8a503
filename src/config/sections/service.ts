import { z } from 'zod';
import { cidr, cidrContains, familiesCoveredWhole, isCidr, parseCidr } from '../formats';
import { annotations } from './kube';

/**
 * The `postfix-relay` Service: ClusterIP for clients in the cluster, or a LoadBalancer for
 * clients outside it (VMs, another cluster). A LoadBalancer always names its client networks:
 * the same ranges are the Service's loadBalancerSourceRanges, an ipBlock of the NetworkPolicy
 * and entries of Postfix' mynetworks; nothing else is opened.
 */
export const serviceSection = z
  .object({
    type: z
      .enum(['ClusterIP', 'LoadBalancer'])
      .default('ClusterIP')
      .describe('ClusterIP (clients in the cluster) or LoadBalancer (clients outside it; needs loadBalancerSourceRanges).'),
    loadBalancerSourceRanges: z
      .array(cidr)
      .default([])
      .describe(
        'With type LoadBalancer (required then): the client networks outside the cluster that may relay. They become the Service\'s loadBalancerSourceRanges, a NetworkPolicy ipBlock on port 25 and mynetworks entries. Never 0.0.0.0/0, ::/0 or ranges that together cover a whole address space.',
      ),
    annotations: annotations
      .default({})
      .describe('Annotations on the postfix-relay Service (e.g. a cloud provider\'s internal load balancer annotation).'),
  })
  .strict()
  .prefault({})
  .describe('The postfix-relay Service that clients connect to.');

export type ServiceConfig = z.output<typeof serviceSection>;
type Issue = (path: (string | number)[], message: string) => void;

/** The client ranges a LoadBalancer admits: empty unless service.type is LoadBalancer. */
export function loadBalancerRanges(env: { readonly service: ServiceConfig }): readonly string[] {
  return env.service.type === 'LoadBalancer' ? env.service.loadBalancerSourceRanges : [];
}

/** `10.1.2.3/8` -> `10.0.0.0/8`; undefined when the address is already the network's. */
export function canonicalCidr(value: string): string | undefined {
  const { family, network, prefix } = parseCidr(value);
  const address = value.split('/')[0]!;
  const text =
    family === 4
      ? [24n, 16n, 8n, 0n].map((s) => String((network >> s) & 255n)).join('.')
      : compressIpv6(Array.from({ length: 8 }, (_, i) => ((network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)));
  const same = family === 4 ? text === address : parseCidr(`${address}/128`).network === network;
  return same ? undefined : `${text}/${prefix}`;
}

function compressIpv6(groups: string[]): string {
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]! && j - i > 1) best = [i, j - i];
    i = j;
  }
  if (best[0]! < 0) return groups.join(':');
  return `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0]! + best[1]!).join(':')}`;
}

export function checkService(env: { readonly service: ServiceConfig; readonly network: { readonly clusterCidrs: readonly string[] } }, issue: Issue): void {
  const s = env.service;
  const path = ['service', 'loadBalancerSourceRanges'];
  if (s.type !== 'LoadBalancer') {
    if (s.loadBalancerSourceRanges.length) {
      issue(path, `applies only to service.type LoadBalancer (type is ${s.type}): remove it, or set type: LoadBalancer`);
    }
    return;
  }
  if (!s.loadBalancerSourceRanges.length) {
    issue(path, 'is required when service.type is LoadBalancer: list the client networks outside the cluster that may relay (a load balancer open to every address is an open relay on the internet)');
    return;
  }
  const seen = new Set<string>();
  s.loadBalancerSourceRanges.forEach((range, i) => {
    if (!isCidr(range)) return; // its own "must be a CIDR" issue is already reported
    const { prefix } = parseCidr(range);
    const canonical = canonicalCidr(range);
    const cluster = env.network.clusterCidrs.filter(isCidr).find((c) => cidrContains(c, range));
    if (prefix === 0) {
      issue([...path, i], `${range} admits every address: an open relay on the internet. List the client networks`);
    } else if (canonical) {
      issue([...path, i], `${range} has host bits set: write the network, ${canonical}`);
    } else if (seen.has(range)) {
      issue([...path, i], `${range} is listed twice`);
    } else if (cluster) {
      issue(
        [...path, i],
        `${range} lies inside network.clusterCidrs (${cluster}): pods there would reach the relay without the namespace access label. List the external clients' networks, and narrow network.clusterCidrs to the pod and service networks if they share an address block`,
      );
    }
    seen.add(range);
  });
  const zeroPrefix = (f: 4 | 6) => s.loadBalancerSourceRanges.some((r) => isCidr(r) && parseCidr(r).family === f && parseCidr(r).prefix === 0);
  for (const family of familiesCoveredWhole(s.loadBalancerSourceRanges).filter((f) => !zeroPrefix(f))) {
    issue(path, `together cover every IPv${family} address: an open relay on the internet. List specific client networks`);
  }
}

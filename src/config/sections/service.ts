import { z } from 'zod';
import { cidr, cidrContains, clientRangesProblem, hasHostBits, isCidr } from '../formats';
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
        'With type LoadBalancer (required then): the client networks outside the cluster that may relay. They become the Service\'s loadBalancerSourceRanges, a NetworkPolicy ipBlock on port 25 and mynetworks entries. Never 0.0.0.0/0, ::/0, ranges that together cover a whole address space, or more public addresses than one IPv4 /8 or IPv6 /32.',
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

export function checkService(
  env: { readonly service: ServiceConfig; readonly network: { readonly clusterCidrs: readonly string[]; readonly mynetworks?: readonly string[] } },
  issue: Issue,
): void {
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
  const ranges = s.loadBalancerSourceRanges;
  const seen = new Set<string>();
  ranges.forEach((range, i) => {
    // A malformed range (or one with host bits) has its own message from the cidr format.
    if (!isCidr(range) || hasHostBits(range)) return;
    const cluster = env.network.clusterCidrs.filter(isCidr).find((c) => cidrContains(c, range));
    if (seen.has(range)) {
      issue([...path, i], `${range} is listed twice`);
    } else if (cluster) {
      issue(
        [...path, i],
        `${range} lies inside network.clusterCidrs (${cluster}): pods there would reach the relay without the namespace access label. List the external clients' networks, and narrow network.clusterCidrs to the pod and service networks if they share an address block`,
      );
    }
    seen.add(range);
  });
  // Judged as a whole (0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0), alone and together with the
  // cluster's client networks: both lists end up in mynetworks.
  const valid = ranges.filter((r) => isCidr(r) && !hasHostBits(r));
  const mynetworks = (env.network.mynetworks ?? env.network.clusterCidrs).filter(isCidr);
  const alone = clientRangesProblem(valid);
  const together = alone || clientRangesProblem(mynetworks) ? undefined : clientRangesProblem([...mynetworks, ...valid]);
  if (alone) issue(path, alone);
  else if (together) issue(path, `with network.mynetworks (${mynetworks.join(', ')}), ${together}`);
}

import { cidrContains } from '../../src/config/formats';
import { matches, type K8sObject } from './render';

/**
 * A small model of Kubernetes NetworkPolicy semantics (namespaceSelector/podSelector/ipBlock
 * peers, ports, policyTypes, default deny once a pod is selected), enough to ask "would this
 * connection be allowed?" of the synthesized policies without a cluster.
 */
export interface Peer {
  readonly namespace: string;
  readonly namespaceLabels: Record<string, string>;
  readonly podLabels?: Record<string, string>;
  /** For traffic leaving the cluster. */
  readonly ip?: string;
}

function peerMatches(rulePeers: K8sObject[] | undefined, peer: Peer, policyNamespace: string): boolean {
  if (!rulePeers || rulePeers.length === 0) return true; // empty `from`/`to` = everyone
  return rulePeers.some((p) => {
    if (p.ipBlock) {
      if (!peer.ip) return false;
      return cidrContains(p.ipBlock.cidr, `${peer.ip}/32`) && !(p.ipBlock.except ?? []).some((e: string) => cidrContains(e, `${peer.ip}/32`));
    }
    if (peer.ip && !peer.podLabels) return false;
    const nsOk = p.namespaceSelector ? matches(p.namespaceSelector.matchLabels ?? {}, peer.namespaceLabels) : peer.namespace === policyNamespace;
    const podOk = p.podSelector ? matches(p.podSelector.matchLabels ?? {}, peer.podLabels ?? {}) : true;
    return nsOk && podOk;
  });
}

function portMatches(rulePorts: K8sObject[] | undefined, protocol: string, port: number): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
}

export function allowsIngress(policies: K8sObject[], podLabels: Record<string, string>, from: Peer, protocol: string, port: number): boolean {
  const selecting = policies.filter((np) => matches(np.spec.podSelector.matchLabels ?? {}, podLabels) && (np.spec.policyTypes ?? ['Ingress']).includes('Ingress'));
  if (!selecting.length) return true;
  return selecting.some((np) => (np.spec.ingress ?? []).some((r: K8sObject) => peerMatches(r.from, from, np.metadata.namespace) && portMatches(r.ports, protocol, port)));
}

export function allowsEgress(policies: K8sObject[], podLabels: Record<string, string>, to: Peer, protocol: string, port: number): boolean {
  const selecting = policies.filter((np) => matches(np.spec.podSelector.matchLabels ?? {}, podLabels) && (np.spec.policyTypes ?? []).includes('Egress'));
  if (!selecting.length) return true;
  return selecting.some((np) => (np.spec.egress ?? []).some((r: K8sObject) => peerMatches(r.to, to, np.metadata.namespace) && portMatches(r.ports, protocol, port)));
}

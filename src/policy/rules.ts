import { hpaAbovePdb, noReplicasWithHpa, pdbAllowsDisruption } from './availability';
import { imagesPinned } from './images';
import { namespaced, stableSelectors } from './meta';
import { loadBalancerExposure } from './exposure';
import { defaultDeny, ingressSources, mynetworksWithinCluster } from './network';
import { containersRestricted, namespaceLabels, podBaseline, postfixCapabilities } from './pod-security';
import { hpaTarget, networkPolicySelector, pdbSelector, serviceMonitorSelector, serviceSelector, serviceTargetPort, workloadSelector } from './references';
import { relayTls } from './relay-tls';
import { limitsCoverRequests, probesPresent, resourcesSet } from './resources';
import { formatFinding, type PolicyContext, type PolicyRule } from './types';

/** Every policy rule, in the order their messages are reported. docs/POLICIES.md lists each id. */
export const POLICY_RULES: readonly PolicyRule[] = [
  resourcesSet,
  limitsCoverRequests,
  probesPresent,
  imagesPinned,
  podBaseline,
  containersRestricted,
  postfixCapabilities,
  namespaceLabels,
  pdbAllowsDisruption,
  hpaAbovePdb,
  noReplicasWithHpa,
  namespaced,
  stableSelectors,
  workloadSelector,
  serviceSelector,
  serviceTargetPort,
  networkPolicySelector,
  pdbSelector,
  hpaTarget,
  serviceMonitorSelector,
  defaultDeny,
  ingressSources,
  mynetworksWithinCluster,
  loadBalancerExposure,
  relayTls,
];

/** Runs every policy rule; returns formatted messages (empty when the chart complies). */
export function checkPolicies(ctx: PolicyContext, rules: readonly PolicyRule[] = POLICY_RULES): string[] {
  return rules.flatMap((rule) => rule.check(ctx).map((f) => formatFinding(rule.id, ctx.env.name, f)));
}

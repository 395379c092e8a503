import { z } from 'zod';
import { labelKey, labels, labelValue } from '../formats';
import { dnsSubdomain } from './kube';

/**
 * Where the relay pods may run. Google accepts relay mail only from registered egress
 * addresses, so clusters pin the relay to a node pool with a known NAT or public address:
 * nodeSelector or node affinity, tolerations for that pool's taints, and a priority class so
 * the relay is not the first thing evicted. Pod spreading stays with `topologySpread`.
 */

const toleration = z
  .object({
    key: labelKey.optional().describe('Taint key. Unset (with operator Exists) tolerates every taint.'),
    operator: z.enum(['Equal', 'Exists']).optional().describe('Equal (the Kubernetes default when unset) matches key and value; Exists matches the key alone.'),
    value: labelValue.optional().describe('Taint value (operator Equal only).'),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().describe('Taint effect; unset matches every effect.'),
    tolerationSeconds: z.number().int().min(0).optional().describe('How long a pod stays on a node tainted NoExecute (effect NoExecute only).'),
  })
  .strict();

const nodeSelectorRequirement = z
  .object({
    key: labelKey.describe('Node label key.'),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).describe('How the node label is compared with values.'),
    values: z.array(z.string().min(1).max(63)).optional().describe('Values: one or more for In/NotIn, none for Exists/DoesNotExist, one integer for Gt/Lt.'),
  })
  .strict();

const nodeFieldRequirement = z
  .object({
    key: z.enum(['metadata.name']).describe('Node field (only metadata.name is supported by Kubernetes).'),
    operator: z.enum(['In', 'NotIn']).describe('How the field is compared with values.'),
    values: z.array(z.string().min(1).max(253)).min(1).describe('Node names.'),
  })
  .strict();

const nodeSelectorTerm = z
  .object({
    matchExpressions: z.array(nodeSelectorRequirement).optional().describe('Requirements on node labels (all must hold).'),
    matchFields: z.array(nodeFieldRequirement).optional().describe('Requirements on node fields (all must hold).'),
  })
  .strict();

const nodeAffinity = z
  .object({
    requiredDuringSchedulingIgnoredDuringExecution: z
      .object({
        nodeSelectorTerms: z.array(nodeSelectorTerm).min(1).describe('A node qualifies when it matches any one term.'),
      })
      .strict()
      .optional()
      .describe('Nodes the pods must run on.'),
    preferredDuringSchedulingIgnoredDuringExecution: z
      .array(
        z
          .object({
            weight: z.number().int().min(1).max(100).describe('Weight, 1-100.'),
            preference: nodeSelectorTerm.describe('The nodes preferred.'),
          })
          .strict(),
      )
      .optional()
      .describe('Nodes the scheduler prefers.'),
  })
  .strict();

export const schedulingSection = z
  .object({
    nodeSelector: labels.default({}).describe('Node labels the relay pods require (e.g. the node pool whose egress IPs Google knows).'),
    tolerations: z.array(toleration).default([]).describe('Taints of dedicated nodes the relay pods tolerate.'),
    affinity: z
      .object({
        nodeAffinity: nodeAffinity.optional().describe('Kubernetes node affinity (required and preferred node selector terms).'),
      })
      .strict()
      .default({})
      .describe('Node affinity only: pod spreading is `topologySpread`, and pod (anti-)affinity is not offered.'),
    priorityClassName: dnsSubdomain.optional().describe('PriorityClass of the relay pods (the class must exist in the cluster).'),
  })
  .strict()
  .prefault({})
  .describe('Where the relay pods run: node selection, tolerations, node affinity, priority.');

export type SchedulingConfig = z.output<typeof schedulingSection>;
type Issue = (path: (string | number)[], message: string) => void;

/** Rules inside tolerations and node selector terms that Kubernetes would refuse only at apply time. */
export function checkScheduling(env: { readonly scheduling: SchedulingConfig }, issue: Issue): void {
  const s = env.scheduling;
  s.tolerations.forEach((t, i) => {
    const at = (field: string) => ['scheduling', 'tolerations', i, field];
    if (t.operator === 'Exists' && t.value !== undefined) issue(at('value'), `must be unset when operator is Exists (Exists matches the key alone)`);
    if (t.key === undefined && t.operator !== 'Exists') issue(at('key'), 'is required unless operator is Exists (an empty key with Exists tolerates every taint)');
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') issue(at('tolerationSeconds'), `applies only to effect NoExecute (effect is ${t.effect ?? 'unset'})`);
  });
  const na = s.affinity.nodeAffinity;
  const terms: [(string | number)[], z.output<typeof nodeSelectorTerm>][] = [
    ...(na?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []).map(
      (t, i) => [['scheduling', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms', i], t] as [(string | number)[], typeof t],
    ),
    ...(na?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
      (p, i) => [['scheduling', 'affinity', 'nodeAffinity', 'preferredDuringSchedulingIgnoredDuringExecution', i, 'preference'], p.preference] as [(string | number)[], typeof p.preference],
    ),
  ];
  for (const [path, term] of terms) {
    if (!term.matchExpressions?.length && !term.matchFields?.length) {
      issue(path, 'must list matchExpressions or matchFields (an empty term matches no node)');
    }
    term.matchExpressions?.forEach((r, j) => {
      const at = [...path, 'matchExpressions', j, 'values'];
      const n = r.values?.length ?? 0;
      if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) issue(at, `must list at least one value for operator ${r.operator}`);
      if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) issue(at, `must be empty for operator ${r.operator}`);
      if ((r.operator === 'Gt' || r.operator === 'Lt') && (n !== 1 || !/^-?[0-9]+$/.test(r.values![0]!))) {
        issue(at, `must be exactly one integer for operator ${r.operator}`);
      }
    });
  }
}

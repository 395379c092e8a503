import { z } from 'zod';
import { labels } from '../formats';
import { annotations, reservedKeys, reservedKeysMeta } from './kube';

/**
 * Extra metadata on the relay pods, for service meshes, egress gateways, cost tools and the
 * like. The chart's own labels and the annotation that rolls the pods stay the chart's.
 */

/** Label keys the chart owns: the selector and the other app.kubernetes.io/* labels. */
export const RESERVED_LABEL_PREFIXES = ['app.kubernetes.io/'];
/** The pod annotation the chart owns (rolls the pods when the configuration changes). */
export const CONFIG_CHECKSUM_ANNOTATION = 'checksum/config';

export const podSection = z
  .object({
    annotations: annotations
      .meta(reservedKeysMeta([], [CONFIG_CHECKSUM_ANNOTATION]))
      .default({})
      .describe(`Extra annotations on the relay pods (e.g. sidecar.istio.io/inject). \`${CONFIG_CHECKSUM_ANNOTATION}\` is the chart's.`),
    labels: labels
      .meta(reservedKeysMeta(RESERVED_LABEL_PREFIXES))
      .default({}).describe('Extra labels on the relay pods. The app.kubernetes.io/* labels (and with them the selector) are the chart\'s and cannot be set here.'),
  })
  .strict()
  .prefault({})
  .describe('Extra metadata on the relay pods.');

export type PodConfig = z.output<typeof podSection>;
type Issue = (path: (string | number)[], message: string) => void;

export function checkPod(env: { readonly pod: PodConfig }, issue: Issue): void {
  for (const key of reservedKeys(env.pod.labels, RESERVED_LABEL_PREFIXES)) {
    issue(
      ['pod', 'labels', key],
      'is reserved: the app.kubernetes.io/* labels identify the relay and its selector (app.kubernetes.io/name, app.kubernetes.io/instance), which Services, the NetworkPolicy and the immutable workload selector rely on: use a label outside app.kubernetes.io/',
    );
  }
  for (const key of reservedKeys(env.pod.annotations, [], [CONFIG_CHECKSUM_ANNOTATION])) {
    issue(['pod', 'annotations', key], 'is reserved: the chart sets it to a hash of the Postfix configuration so that a change rolls the pods');
  }
}

/**
 * What keeps undelivered mail when an environment is removed or an object drops out of Git.
 *
 * The queue lives on PersistentVolumeClaims made from the StatefulSet's volumeClaimTemplate.
 * They are not in dist/, so kubectl and Helm never delete them; what can:
 * - deleting the Namespace (`kubectl delete -k dist/<env>/`, `kubectl delete namespace`, or Argo CD
 *   deleting or pruning the Namespace it synced): every claim in it goes with it;
 * - Argo CD with label tracking (its default before 3.0): the claims carry the selector labels,
 *   `app.kubernetes.io/instance` among them, which equals the Application's name, so Argo CD counts
 *   them as resources of the Application that Git no longer has: it prunes them (automated prune)
 *   and deletes them with the Application (cascading deletion);
 * - deleting the StatefulSet with `persistentVolumeClaimRetentionPolicy.whenDeleted: Delete` (we
 *   set Retain).
 * So the Namespace and the claims carry this annotation: Argo CD then neither prunes nor deletes
 * them. Nothing stops a `kubectl delete namespace`: docs/EMAIL-SERVER-SETUP.md#removing-an-environment
 * drains and checks the queue first.
 */
export const ARGOCD_KEEP_ANNOTATION = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } as const;

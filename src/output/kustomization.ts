import { KUSTOMIZATION_FILE } from './layout';
import { toYaml } from './yaml';

/**
 * The Kustomize file of a folder of manifests. It only lists them: overlays add what differs
 * (`resources: [../../dist/prod]` plus patches), so the folder stays usable with plain kubectl.
 */
export function kustomization(files: readonly string[], comment?: string): { readonly file: string; readonly content: string } {
  const object = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [...files],
  };
  return { file: KUSTOMIZATION_FILE, content: toYaml(object, comment) };
}

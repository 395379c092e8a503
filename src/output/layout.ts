/**
 * Where things go in dist/. The deploy script, the docs and the tests rely on these names:
 * change them together.
 */

/**
 * Kustomize accepts three file names; this is the one `kubectl apply -f <dir>` skips, because
 * kubectl only reads *.json, *.yaml and *.yml from a directory. A `kustomization.yaml` there
 * would be sent to the API server as an object of kind Kustomization and fail the apply.
 */
export const KUSTOMIZATION_FILE = 'Kustomization';

/** dist/helm/<chart>/: one Helm chart per environment. */
export const HELM_DIR = 'helm';

/** dist/argocd/: one Argo CD Application per environment. */
export const ARGOCD_DIR = 'argocd';

/** Folder names in dist/ that environments cannot take. */
export const RESERVED_DIRS: readonly string[] = [HELM_DIR, ARGOCD_DIR];

/** Product name: Helm chart and Argo CD Application names start with it. */
export const PRODUCT = 'email-server';

export const chartName = (envName: string): string => `${PRODUCT}-${envName}`;
export const applicationName = (envName: string): string => `${PRODUCT}-${envName}`;

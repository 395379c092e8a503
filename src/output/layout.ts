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

/**
 * dist/argocd/<env>/: the Argo CD Application of one environment, in a folder of its own. There
 * is no aggregate: each Application is installed into the Argo CD of the cluster that runs its
 * environment (`kubectl apply -f dist/argocd/<env>/`); dist/argocd/ itself holds no file to
 * apply, rather than one that installs every environment into one cluster.
 */
export const ARGOCD_DIR = 'argocd';

/** Folder names in dist/ that environments cannot take. */
export const RESERVED_DIRS: readonly string[] = [HELM_DIR, ARGOCD_DIR];

/** Product name: Helm chart and Argo CD Application names start with it. */
export const PRODUCT = 'email-server';

export const chartName = (envName: string): string => `${PRODUCT}-${envName}`;
export const applicationName = (envName: string): string => `${PRODUCT}-${envName}`;

/** The folder of an environment's Argo CD Application in dist/. */
export const applicationDir = (envName: string): string => `${ARGOCD_DIR}/${envName}`;

/** The branch `npm run gitops-publish` writes to by default, and Applications follow (folders layout). */
export const DEFAULT_BRANCH = 'main';

/** The branch of one environment in the rendered-branches layout (`gitops-publish --layout branches`). */
export const environmentBranch = (envName: string): string => `env/${envName}`;

/** Argo CD Application names start with it (and end with the environment name). */
export const APPLICATION_PREFIX = `${PRODUCT}-`;

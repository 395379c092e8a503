import type * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import { Quantity } from 'cdk8s-plus-28/lib/imports/k8s';
import type { EnvironmentConfig } from '../config/schema';
import { AUTH_FILES, PATHS } from '../postfix/layout';

/** Volume names of relay.auth (see VOLUMES in relay-pod.ts for the others). */
export const AUTH_VOLUMES = { secret: 'relay-auth', sasl: 'sasl' } as const;

/**
 * relay.auth's two volumes, for the postfix container only (the exporter never sees them):
 * - the user's Secret, projected to exactly two root-only files (items), read-only. A volume, not
 *   environment variables: the values stay out of the pod spec, `kubectl describe` and the
 *   process environment, and the kubelet updates the files when the Secret changes. A missing
 *   Secret or key keeps the pod in ContainerCreating with an event that names it (not optional);
 * - a memory-backed emptyDir for the SASL table the entrypoint builds (never on a node's disk).
 */
export function relayAuthVolumes(env: EnvironmentConfig): { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] } {
  const auth = env.relay.auth;
  if (!auth) return { volumes: [], mounts: [] };
  return {
    volumes: [
      {
        name: AUTH_VOLUMES.secret,
        secret: {
          secretName: auth.secretName,
          defaultMode: 0o400,
          optional: false,
          items: [
            { key: auth.usernameKey, path: AUTH_FILES.username },
            { key: auth.passwordKey, path: AUTH_FILES.password },
          ],
        },
      },
      { name: AUTH_VOLUMES.sasl, emptyDir: { medium: 'Memory', sizeLimit: Quantity.fromString('1Mi') } },
    ],
    mounts: [
      { name: AUTH_VOLUMES.secret, mountPath: PATHS.authDir, readOnly: true },
      { name: AUTH_VOLUMES.sasl, mountPath: PATHS.saslDir },
    ],
  };
}

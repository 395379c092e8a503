import type { EnvironmentConfig } from '../config/schema';
import { RELAY_NAME } from '../postfix/layout';

export { RELAY_NAME };

/**
 * The instance name: also the Argo CD Application's name, because Argo CD (label tracking, its
 * default) overwrites `app.kubernetes.io/instance` with the Application name. Keeping the two
 * equal makes that a no-op instead of breaking the ServiceMonitor's selector.
 */
export function instanceName(env: EnvironmentConfig): string {
  return `email-server-${env.name}`;
}

/**
 * Selector labels: a stable contract (Deployment selectors are immutable), so only the
 * name and the instance, never a version or a construct address.
 */
export function selectorLabels(env: EnvironmentConfig): Record<string, string> {
  return {
    'app.kubernetes.io/name': RELAY_NAME,
    'app.kubernetes.io/instance': instanceName(env),
  };
}

/** Labels on every object: the selector labels plus descriptive ones. */
export function commonLabels(env: EnvironmentConfig, component: string): Record<string, string> {
  return {
    ...selectorLabels(env),
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'email-server',
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
}

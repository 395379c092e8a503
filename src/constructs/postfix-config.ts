import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { KubeConfigMap } from 'cdk8s-plus-28/lib/imports/k8s';
import type { EnvironmentConfig } from '../config/schema';
import { renderPostfixFiles } from '../postfix';
import { renderDrainScript } from '../postfix/drain';
import { CONFIG_FILES } from '../postfix/layout';
import { commonLabels } from './labels';

export interface PostfixConfigProps {
  /** The validated environment. */
  readonly config: EnvironmentConfig;
  /**
   * Name of the ConfigMap.
   * @default 'postfix-config'
   */
  readonly name?: string;
}

/**
 * ConfigMap `postfix-config`: main.cf, master.cf and the container's scripts, rendered by the
 * pure functions in src/postfix. `checksum` goes on the pod template so a change rolls the pods.
 */
export class PostfixConfig extends Construct {
  public readonly configMap: KubeConfigMap;
  public readonly name: string;
  /** sha256 of the ConfigMap's data. */
  public readonly checksum: string;
  /** The rendered files, by ConfigMap key. */
  public readonly files: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: PostfixConfigProps) {
    super(scope, id);
    const env = props.config;
    this.name = props.name ?? 'postfix-config';
    this.files = { ...renderPostfixFiles(env), [CONFIG_FILES.drain]: renderDrainScript(env) };
    const data = Object.fromEntries(Object.keys(this.files).sort().map((k) => [k, this.files[k] as string]));
    this.checksum = createHash('sha256').update(JSON.stringify(data)).digest('hex');
    this.configMap = new KubeConfigMap(this, 'Resource', {
      metadata: { name: this.name, namespace: env.namespace, labels: commonLabels(env, 'relay') },
      data,
    });
  }
}

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseEnvironment } from '../../src/config/load';
import { PATHS } from '../../src/postfix/layout';
import { find, render, workloadOf, type K8sObject } from '../charts/render';

/** prod with relay.auth (the Secret's key names changed too). */
const env = (auth?: Record<string, unknown>) =>
  parseEnvironment(
    {
      namespace: 'email-server-auth',
      ...(auth ? { relay: { auth } } : {}),
      mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] },
    },
    'environments/auth.yaml',
  );

const podSpec = (objects: K8sObject[]) => workloadOf(objects).spec.template.spec;
const container = (objects: K8sObject[], name: string) => podSpec(objects).containers.find((c: K8sObject) => c.name === name);

describe('relay.auth in the pod', () => {
  const objects = render(env({ secretName: 'gmail-relay', usernameKey: 'user', passwordKey: 'app-password' }));
  const spec = podSpec(objects);

  it('mounts the Secret as a read-only volume of exactly two root-only files', () => {
    expect(spec.volumes.find((v: K8sObject) => v.name === 'relay-auth')).toEqual({
      name: 'relay-auth',
      secret: {
        secretName: 'gmail-relay',
        defaultMode: 0o400,
        optional: false,
        items: [
          { key: 'user', path: 'username' },
          { key: 'app-password', path: 'password' },
        ],
      },
    });
    expect(container(objects, 'postfix').volumeMounts).toContainEqual({ name: 'relay-auth', mountPath: PATHS.authDir, readOnly: true });
  });

  it('gives the SASL table a memory-backed volume, in the postfix container only', () => {
    expect(spec.volumes.find((v: K8sObject) => v.name === 'sasl')).toEqual({ name: 'sasl', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    expect(container(objects, 'postfix').volumeMounts).toContainEqual({ name: 'sasl', mountPath: PATHS.saslDir });
    const exporterMounts = container(objects, 'exporter').volumeMounts.map((m: K8sObject) => m.name);
    expect(exporterMounts).not.toContain('relay-auth');
    expect(exporterMounts).not.toContain('sasl');
  });

  it('references the Secret nowhere else: no env, no envFrom, no Secret object of ours', () => {
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      expect(c.env ?? []).toEqual([]);
      expect(c.envFrom ?? []).toEqual([]);
    }
    expect(find(objects, 'Secret')).toEqual([]);
    const mentions = objects.filter((o) => stringify(o).includes('gmail-relay')).map((o) => `${o.kind}/${o.metadata.name}`);
    // The workload (the volume), the ConfigMap (comments in main.cf and entrypoint.sh) and the
    // auth-failure alert's description name it.
    expect(mentions.sort()).toEqual(['ConfigMap/postfix-config', 'PrometheusRule/postfix-relay', `${workloadOf(objects).kind}/postfix-relay`].sort());
  });

  it('changes nothing in the pod without relay.auth', () => {
    const plain = podSpec(render(env()));
    expect(plain.volumes.map((v: K8sObject) => v.name)).not.toContain('relay-auth');
    expect(plain.volumes.map((v: K8sObject) => v.name)).not.toContain('sasl');
  });
});

import { describe, expect, it } from 'vitest';
import { secretsIn } from '../../src/delivery/secrets';
import { renderDist } from '../../src/output';
import { sampleManifests } from '../output/fixtures';

describe('secretsIn', () => {
  it('finds nothing in what the synth writes', () => {
    expect(secretsIn(renderDist(sampleManifests(), { version: '1.0.0' }))).toEqual([]);
  });

  it('finds a Secret in a manifest, in a List, in a multi-document file and in a Helm template; not other kinds', () => {
    const tree = new Map([
      ['dev/secret-x.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: { name: x }\n'],
      ['dev/list.yaml', 'apiVersion: v1\nkind: List\nitems:\n  - { apiVersion: v1, kind: Secret, metadata: { name: y } }\n'],
      ['dev/multi.yaml', 'kind: ConfigMap\nmetadata: { name: a }\n---\nkind: "Secret"\nmetadata: { name: b }\n'],
      ['helm/email-server-dev/templates/s.yaml', '{{- if true }}\nkind: Secret\n{{- end }}\n'],
      ['dev/sealed.yaml', 'kind: SealedSecret\nmetadata: { name: z }\n'],
      ['dev/configmap-secret-names.yaml', 'kind: ConfigMap\ndata: { kind: Secret }\n'],
      ['dev/README', 'kind: Secret\n'],
    ]);
    expect(secretsIn(tree)).toEqual(['dev/secret-x.yaml', 'dev/list.yaml', 'dev/multi.yaml', 'helm/email-server-dev/templates/s.yaml']);
  });
});

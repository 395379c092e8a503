import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { renderEnvironments } from '../../src/synth';
import { canConnect, requireTool, startPostfix, stopAllPostfix, waitFor, type PostfixInstance } from './harness';

// The seed's "health check functionality": the probes the manifest declares (TCP on the smtp
// port) answer while Postfix serves, and stop answering when it dies, so the kubelet restarts it.
const ready = requireTool('postfix', 'postfix');

describe.skipIf(!ready)('the postfix container health checks (prod)', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  const workload = renderEnvironments([env])[0]!.objects.find((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment') as any;
  const postfix = workload.spec.template.spec.containers.find((c: any) => c.name === 'postfix');
  let pf: PostfixInstance;

  beforeAll(async () => {
    pf = await startPostfix({ env });
  });
  afterAll(async () => {
    await stopAllPostfix();
  });

  it('probes the port Postfix listens on', () => {
    for (const probe of [postfix.startupProbe, postfix.livenessProbe, postfix.readinessProbe]) {
      expect(probe.tcpSocket.port).toBe('smtp');
    }
    expect(postfix.ports).toEqual([{ name: 'smtp', containerPort: 25, protocol: 'TCP' }]);
  });

  it('answers while Postfix serves, and fails once the master has died', async () => {
    expect(await canConnect('127.0.0.1', pf.port)).toBe(true);
    await pf.crash(); // the master and its children die at once
    await waitFor('the smtp port to close', async () => !(await canConnect('127.0.0.1', pf.port)), { timeoutMs: 20_000 });
    expect(await canConnect('127.0.0.1', pf.port)).toBe(false);
  });
});

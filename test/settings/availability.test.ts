import { describe, expect, it } from 'vitest';
import { BASE } from './check';
import { synthOutput, validate } from './effects';

// Values the per-setting check cannot reach because no setting controls them, or whose exact
// rendering matters beyond "it changed": asserted here, not left to a snapshot.
describe('availability objects render exactly what the settings say', () => {
  const env = validate({
    ...BASE,
    autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 7, cpuTargetPercent: 55, scaleDown: { stabilizationWindowSeconds: 900, periodSeconds: 120 } },
    podDisruptionBudget: { minAvailable: 2 },
  });
  const out = synthOutput(env);
  const hpa = out.get('HorizontalPodAutoscaler/postfix-relay')!;
  const pdb = out.get('PodDisruptionBudget/postfix-relay')!;

  it('scales on average CPU utilisation at autoscaling.cpuTargetPercent', () => {
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 55 } } }]);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 7]);
  });

  it('scales down one pod per autoscaling.scaleDown.periodSeconds after the window, never faster', () => {
    expect(hpa.spec.behavior.scaleDown).toEqual({
      stabilizationWindowSeconds: 900,
      selectPolicy: 'Min',
      policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }],
    });
  });

  it('lets an eviction take a pod that is not ready (unhealthyPodEvictionPolicy AlwaysAllow)', () => {
    // A pod that never became ready serves no mail: evicting it costs nothing, while IfHealthyBudget
    // would let one crash-looping pod block every node drain.
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(pdb.spec.selector.matchLabels).toEqual(out.get('Deployment/postfix-relay')?.spec.selector.matchLabels ?? out.get('StatefulSet/postfix-relay')?.spec.selector.matchLabels);
  });
});

import { cpuMillis, memoryBytes } from '../../src/config/formats';
import { estimatedPeakMemoryMiB, type EnvironmentConfig } from '../../src/config/schema';
import type { ProdSettings } from './pod-types';

/** What the report needs from environments/prod.yaml (read by the caller through src/config/load.ts). */
export function prodSettings(env: EnvironmentConfig, processLimits: readonly number[] = [], relayConcurrencies: readonly number[] = []): ProdSettings {
  const hpa = env.autoscaling;
  return {
    cpuRequestMillicores: cpuMillis(env.resources.requests.cpu),
    cpuLimitMillicores: cpuMillis(env.resources.limits.cpu),
    memoryRequestMiB: memoryBytes(env.resources.requests.memory) / 1024 ** 2,
    memoryLimitMiB: memoryBytes(env.resources.limits.memory) / 1024 ** 2,
    autoscaling: { enabled: hpa.enabled, minReplicas: hpa.minReplicas, maxReplicas: hpa.maxReplicas, cpuTargetPercent: hpa.cpuTargetPercent },
    replicas: env.replicas,
    tuning: { processLimit: env.tuning.processLimit, relayConcurrency: env.tuning.relayConcurrency },
    rateLimits: { ...env.mail.rateLimits },
    maxRecipientsPerMessage: env.mail.maxRecipientsPerMessage,
    estimatedPeakMemoryMiB: estimatedPeakMemoryMiB(env.tuning.processLimit, env.tuning.relayConcurrency),
    // By process limit (at the shipped relayConcurrency), and by "processLimit/relayConcurrency" for every swept pair.
    estimates: Object.fromEntries([
      ...[...new Set([env.tuning.processLimit, ...processLimits])].map((p) => [String(p), estimatedPeakMemoryMiB(p, Math.min(p, env.tuning.relayConcurrency))]),
      ...[...new Set([env.tuning.processLimit, ...processLimits])].flatMap((p) =>
        [...new Set([env.tuning.relayConcurrency, ...relayConcurrencies])].map((rc) => [`${p}/${Math.min(p, rc)}`, estimatedPeakMemoryMiB(p, Math.min(p, rc))]),
      ),
    ]),
  };
}

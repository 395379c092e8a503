import { z } from 'zod';
import { environmentObject, estimatedPeakMemoryMiB, type EnvironmentConfig } from '../config/schema';

/**
 * The values of an environment's Helm chart: the operational knobs a platform team sets per
 * cluster (images, pull secrets, scale, resources, scheduling, extra metadata, the
 * ServiceMonitor's labels). Their schema is built from the environment schema's own fields, so
 * a value is checked exactly as the same setting in an environment file is, and their defaults
 * are the environment's values, so an install without overrides renders dist/<env>/.
 *
 * Everything that reaches main.cf or master.cf stays in the environment file (VALUES_EXCLUDED):
 * it is validated as a whole, checked by the policies and proven on real Postfix before any
 * chart is written, which a value set at install time never would be.
 */

/** What a chart offers, by the objects it contains. */
export interface ChartFeatures {
  /** The chart has an HPA: autoscaling.* instead of replicas. */
  readonly autoscaling: boolean;
  /** The exporter sidecar runs: metrics.image and metrics.resources. */
  readonly metrics: boolean;
  /** A ServiceMonitor or PrometheusRule carries serviceMonitor.labels. */
  readonly monitoringLabels: boolean;
}

export function chartFeatures(env: EnvironmentConfig): ChartFeatures {
  const metrics = env.metrics.enabled;
  return { autoscaling: env.autoscaling.enabled, metrics, monitoringLabels: metrics && (env.serviceMonitor.enabled || env.alerts.enabled) };
}

/** Settings that stay in the environment file, and why (shown in values.yaml and docs/DELIVERY.md). */
export const VALUES_EXCLUDED: readonly { readonly settings: string; readonly why: string }[] = [
  { settings: 'mail.*, relay.*, tuning.*, queue.maximalQueueLifetime, network.*', why: 'they render main.cf and master.cf, which are validated and proven on real Postfix before the chart is written' },
  { settings: 'service.type, service.loadBalancerSourceRanges', why: 'the client ranges are also Postfix\'s mynetworks and the NetworkPolicy: one list, checked together' },
  { settings: 'namespace, tier, queue.persistence, autoscaling.enabled, metrics.enabled, *.enabled', why: 'they decide which objects exist and which policies apply' },
  { settings: 'probes, terminationGracePeriodSeconds, queue.drainDeadlineSeconds', why: 'the drain script and the probes are timed against each other' },
];

type Shape = Record<string, z.ZodType>;

/** The schema inside `.default()`, `.prefault()` and `.optional()` wrappers, keeping its description. */
function inner(schema: z.ZodType): z.ZodType {
  const description = schema.description;
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return description && !s.description ? s.describe(description) : s;
}

function shapeOf(schema: z.ZodType): Shape {
  const s = inner(schema);
  if (!(s instanceof z.ZodObject)) throw new Error('helm values: expected an object schema');
  return s.shape as Shape;
}

/** The environment's fields `keys` of an object section, as a strict object. */
function pick(section: z.ZodType, keys: readonly string[]): z.ZodObject {
  const shape = shapeOf(section);
  return z.object(Object.fromEntries(keys.map((k) => [k, shape[k]!]))).strict();
}

/** The fewest pods an environment may run: the schema's rules across fields, as a bound. */
export function minimumPods(env: EnvironmentConfig): number {
  const pdb = env.podDisruptionBudget.enabled ? env.podDisruptionBudget.minAvailable + 1 : 1;
  return Math.max(pdb, env.tier === 'development' ? 1 : 2);
}

/** The memory limit (MiB) the postfix container needs: estimated peak at full load is at most 80% of it. */
export function minimumMemoryMiB(env: EnvironmentConfig): number {
  return Math.ceil(estimatedPeakMemoryMiB(env.tuning.processLimit, env.tuning.relayConcurrency) / 0.8);
}

/** The zod schema of one chart's values: the environment schema's fields, bounded by its other settings. */
export function helmValuesSchema(env: EnvironmentConfig): z.ZodObject {
  const f = chartFeatures(env);
  const top = environmentObject.shape as unknown as Shape;
  const min = minimumPods(env);
  const minMessage = { message: `must be at least ${min} (the disruption budget and the ${env.tier} tier need it)` };
  const fields: Shape = {
    image: inner(top.image!),
    ...(f.autoscaling
      ? {
          autoscaling: z
            .object({
              minReplicas: (inner(shapeOf(top.autoscaling!).minReplicas!) as z.ZodNumber).min(min, minMessage),
              maxReplicas: inner(shapeOf(top.autoscaling!).maxReplicas!),
              cpuTargetPercent: inner(shapeOf(top.autoscaling!).cpuTargetPercent!),
            })
            .strict()
            .describe('HorizontalPodAutoscaler bounds and target.'),
        }
      : { replicas: (inner(top.replicas!) as z.ZodNumber).min(min, minMessage) }),
    resources: inner(top.resources!),
    ...(f.metrics ? { metrics: pick(top.metrics!, ['image', 'resources']).describe('The postfix_exporter sidecar.') } : {}),
    scheduling: inner(top.scheduling!),
    pod: inner(top.pod!),
    service: pick(top.service!, ['annotations']).describe('The postfix-relay Service (its type and client ranges stay in the environment file).'),
    ...(f.monitoringLabels ? { serviceMonitor: pick(top.serviceMonitor!, ['labels']).describe('Labels of the ServiceMonitor and the PrometheusRule.') } : {}),
  };
  // Helm hands a parent chart's `global` values to every chart; accept them, unused.
  fields.global = z.record(z.string(), z.unknown()).optional().describe("Helm's values shared with subcharts (unused).");
  return z.object(fields).strict();
}

const withoutUndefined = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** The default values: the environment's own settings, so a plain install renders dist/<env>/. */
export function helmValues(env: EnvironmentConfig): Record<string, unknown> {
  const f = chartFeatures(env);
  const a = env.autoscaling;
  return {
    image: withoutUndefined({ ...env.image }),
    ...(f.autoscaling ? { autoscaling: { minReplicas: a.minReplicas, maxReplicas: a.maxReplicas, cpuTargetPercent: a.cpuTargetPercent } } : { replicas: env.replicas }),
    resources: env.resources,
    ...(f.metrics ? { metrics: { image: withoutUndefined({ ...env.metrics.image }), resources: env.metrics.resources } } : {}),
    scheduling: withoutUndefined({ ...env.scheduling }),
    pod: env.pod,
    service: { annotations: env.service.annotations },
    ...(f.monitoringLabels ? { serviceMonitor: { labels: env.serviceMonitor.labels } } : {}),
  };
}

/** values.schema.json: draft-07, every object closed (additionalProperties: false), every value required. */
export function helmValuesJsonSchema(env: EnvironmentConfig): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(helmValuesSchema(env), { io: 'output', target: 'draft-07', unrepresentable: 'throw' }) as Record<string, unknown>;
  return {
    $schema,
    $comment: `Generated by npm run synth from environments/${env.name}.yaml (src/output/helm-values.ts). Do not edit.`,
    title: `Values of the email-server-${env.name} chart`,
    ...(withoutReservedKeyRules(withoutKey(rest, 'default')) as Record<string, unknown>),
  };
}

/**
 * Helm reports a failed `propertyNames.not` as "at '': 'not' failed", naming neither the field
 * nor the key. The reserved label and annotation keys are refused by templates/values-check.yaml
 * instead, with a message that says which and why.
 */
function withoutReservedKeyRules(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutReservedKeyRules);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (k === 'propertyNames' && v && typeof v === 'object' && 'not' in v) {
          const { not: _, ...rest } = v as Record<string, unknown>;
          return [k, rest];
        }
        return [k, withoutReservedKeyRules(v)];
      }),
    );
  }
  return value;
}

/** The environment schema's defaults are not this chart's (values.yaml holds those): leave them out. */
function withoutKey(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutKey(v, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key).map(([k, v]) => [k, withoutKey(v, key)]));
  }
  return value;
}

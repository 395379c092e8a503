import { isDeepStrictEqual } from 'node:util';
import { ApiObject, Chart } from 'cdk8s';
import type { EnvironmentConfig } from '../config/schema';
import { checkPolicies } from './rules';
import { validateObjectSchemas } from './schema';
import type { KubeObject } from './types';

export { validateObjectSchemas } from './schema';
export { checkPolicies, POLICY_RULES } from './rules';
export type { Finding, KubeObject, PolicyContext, PolicyRule } from './types';

/**
 * The chart's objects as plain JSON. `chart.toJson()` cannot be used here: it runs every node
 * validation of the app, this one included, and would recurse.
 */
export function chartObjects(chart: Chart): KubeObject[] {
  return chart.node
    .findAll()
    .filter((c): c is ApiObject => ApiObject.isApiObject(c) && Chart.of(c) === chart)
    .map((o) => o.toJson() as KubeObject);
}

/** Schema and policy messages for a chart's objects (what the node validation reports). */
export function validateChartObjects(env: EnvironmentConfig, objects: readonly KubeObject[]): string[] {
  return [...validateObjectSchemas(env.name, objects), ...checkPolicies({ env, objects })];
}

/**
 * Registers the synth-time checks on a chart: cdk8s runs node validations before it writes
 * anything and fails with every message. cdk8s validates the whole app once per chart it
 * serializes (chart.toJson()), so a repeated validation of unchanged objects reuses the result.
 */
export function addPolicyValidations(chart: Chart, env: EnvironmentConfig): void {
  chart.node.addValidation({
    validate: () => {
      const objects = chartObjects(chart);
      const last = validated.get(chart);
      if (last && isDeepStrictEqual(last.objects, objects)) return last.messages;
      const messages = validateChartObjects(env, objects);
      validated.set(chart, { objects, messages });
      return messages;
    },
  });
}

const validated = new WeakMap<Chart, { objects: KubeObject[]; messages: string[] }>();

/**
 * The objects the chart's last validation checked, so a synth that has just validated need not
 * serialize every object again (chartObjects is a large share of a synth). Undefined before the
 * first validation; stale if the chart changed since, so call it right after validating.
 */
export function lastValidatedObjects(chart: Chart): KubeObject[] | undefined {
  return validated.get(chart)?.objects;
}

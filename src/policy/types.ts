import type { EnvironmentConfig } from '../config/schema';

/** A synthesized manifest as plain JSON (what `ApiObject.toJson()` returns). */
export type KubeObject = Readonly<Record<string, unknown>>;

/** What a rule sees: the environment and every object of its chart. */
export interface PolicyContext {
  readonly env: EnvironmentConfig;
  readonly objects: readonly KubeObject[];
}

/** One violation, before formatting. `subject` is `Kind/name` of the object at fault. */
export interface Finding {
  readonly subject: string;
  readonly path: string;
  readonly problem: string;
  readonly value: unknown;
}

/** A named, documented check. Every id is listed in docs/POLICIES.md. */
export interface PolicyRule {
  readonly id: string;
  /** One line: what the rule requires. */
  readonly doc: string;
  check(ctx: PolicyContext): Finding[];
}

/** `[<rule-id>] <env>: <Kind>/<name>: <field.path>: <problem> (got <value>)` */
export function formatFinding(ruleId: string, envName: string, f: Finding): string {
  return `[${ruleId}] ${envName}: ${f.subject}: ${f.path}: ${f.problem} (got ${describe(f.value)})`;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

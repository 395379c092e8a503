import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseEnvironment } from '../../../src/config/load';
import type { EnvironmentConfig } from '../../../src/config/schema';

/** A shipped environment file with some fields changed, validated like any environment file. */
export function environmentVariant(file: string, name: string, patch: Readonly<Record<string, unknown>>): EnvironmentConfig {
  const data = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return parseEnvironment(merge(data, patch), `${name}.yaml`);
}

function merge(base: Record<string, unknown>, patch: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? merge(b, v) : v;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
